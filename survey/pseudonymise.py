"""Personal data of respondents never leaves the import: keyed HMAC-SHA256 pseudonyms."""

from __future__ import annotations

import hashlib
import hmac
import os

from chanaudit.core.errors import ChanauditError

SALT_ENV = "CHANAUDIT_SURVEY_SALT"


class MissingSalt(ChanauditError, ValueError):
    """Pseudonymisation needs a secret salt: --salt or the CHANAUDIT_SURVEY_SALT variable."""


def salt_from(value: str | None) -> bytes:
    salt = value or os.environ.get(SALT_ENV)
    if not salt:
        raise MissingSalt(f"no salt for pseudonymisation: pass --salt or set {SALT_ENV}")
    return salt.encode("utf-8")


def pseudonym(value: str, salt: bytes, prefix: str = "r") -> str:
    """Stable for the same value and salt; not reversible without the salt."""
    norm = " ".join(str(value).split()).lower()
    return f"{prefix}_{hmac.new(salt, norm.encode('utf-8'), hashlib.sha256).hexdigest()[:16]}"
