"""Labels of channels, statuses and the sample flow in Russian and English (from datasets/labels.yaml)."""

from __future__ import annotations

from functools import lru_cache

import yaml

from chanaudit.datasets import ROOT


@lru_cache(maxsize=1)
def _labels() -> dict[str, dict[str, dict[str, str]]]:
    return yaml.safe_load((ROOT / "labels.yaml").read_text(encoding="utf-8"))


def channel_labels() -> dict[str, dict[str, str]]:
    return _labels()["channels"]


def status_label(status: str, lang: str = "en") -> str:
    """``parked`` -> "parked or for sale" / «припаркован или продаётся»; unknown codes as they are."""
    return _labels()["statuses"].get(status, {}).get(lang, status)


def flow_label(key: str, lang: str = "en") -> str:
    """A text of the sample flow (``input``, ``excluded_valid``, ``base``...)."""
    return _labels()["flow"][key][lang]


def label(channel: str, lang: str = "en") -> str:
    return channel_labels().get(channel, {}).get(lang, channel)
