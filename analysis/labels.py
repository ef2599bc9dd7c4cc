"""Channel labels in Russian and English (from datasets/labels.yaml)."""

from __future__ import annotations

from functools import lru_cache

import yaml

from chanaudit.datasets import ROOT


@lru_cache(maxsize=1)
def channel_labels() -> dict[str, dict[str, str]]:
    return yaml.safe_load((ROOT / "labels.yaml").read_text(encoding="utf-8"))["channels"]


def label(channel: str, lang: str = "en") -> str:
    return channel_labels().get(channel, {}).get(lang, channel)
