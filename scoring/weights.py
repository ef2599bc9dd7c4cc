"""Channel weights: the study's defaults from data, a TOML file, or ``channel=value`` pairs."""

from __future__ import annotations

import math
import tomllib
from collections.abc import Mapping
from functools import lru_cache
from pathlib import Path

from chanaudit.core.contract import CHANNELS
from chanaudit.core.errors import ChanauditError
from chanaudit.datasets import ROOT as DATASETS

DEFAULT_FILE = DATASETS / "weights" / "okdesk-2016.toml"


class InvalidWeights(ChanauditError, ValueError):
    """Weights that cannot score: unknown or missing channel, negative, not summing to 1."""


def validate(weights: Mapping[str, float], normalise: bool = False, source: str = "weights") -> dict[str, float]:
    """Check and return weights in channel order; ``normalise`` rescales them to sum to 1."""
    unknown = set(weights) - set(CHANNELS)
    if unknown:
        raise InvalidWeights(f"{source}: unknown channel(s) {', '.join(sorted(unknown))}; "
                             f"channels are {', '.join(CHANNELS)}")
    missing = [c for c in CHANNELS if c not in weights]
    if missing:
        raise InvalidWeights(f"{source}: missing weight for {', '.join(missing)}")
    out = {}
    for ch in CHANNELS:
        try:
            value = float(weights[ch])
        except (TypeError, ValueError):
            raise InvalidWeights(f"{source}: weight of {ch} is not a number: {weights[ch]!r}") from None
        if not math.isfinite(value) or value < 0:
            raise InvalidWeights(f"{source}: weight of {ch} must be a finite number >= 0, not {value}")
        out[ch] = value
    total = sum(out.values())
    if total <= 0:
        raise InvalidWeights(f"{source}: weights sum to 0")
    if normalise:
        return {ch: v / total for ch, v in out.items()}
    if abs(total - 1) > 1e-9:
        raise InvalidWeights(f"{source}: weights sum to {total:g}, not 1 (use --normalise to rescale)")
    return out


def load_weights(path: str | Path, normalise: bool = False) -> dict[str, float]:
    path = Path(path)
    if path.is_dir():
        raise InvalidWeights(f"{path}: a folder, not a TOML file with a [weights] table")
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InvalidWeights(f"{path}: no such file") from None
    except UnicodeDecodeError as exc:
        raise InvalidWeights(f"{path}: not UTF-8 text ({exc.reason} at byte {exc.start})") from None
    except OSError as exc:
        raise InvalidWeights(f"{path}: cannot read: {exc.strerror or exc}") from None
    except tomllib.TOMLDecodeError as exc:
        raise InvalidWeights(f"{path}: not valid TOML: {exc}") from None
    if not isinstance(data.get("weights"), dict):
        raise InvalidWeights(f"{path}: no [weights] table")
    return validate(data["weights"], normalise, str(path))


@lru_cache(maxsize=1)
def _default() -> tuple[tuple[str, float], ...]:
    return tuple(load_weights(DEFAULT_FILE).items())


def default_weights() -> dict[str, float]:
    """email 0.1, phone 0.1, chat 0.2, form 0.2, portal 0.4 (datasets/weights/okdesk-2016.toml)."""
    return dict(_default())


def parse_weights(pairs: list[str], base: Mapping[str, float] | None = None, normalise: bool = False) -> dict[str, float]:
    """``["portal=0.5", "chat=0.1"]`` over ``base`` (defaults): the CLI's ``--weight`` option."""
    out = dict(base or default_weights())
    for pair in pairs:
        name, sep, value = pair.partition("=")
        if not sep:
            raise InvalidWeights(f"--weight {pair!r}: expected channel=value")
        out[name.strip()] = value.strip()
    return validate(out, normalise, "--weight")
