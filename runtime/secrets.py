"""Recognising secrets, and masking them in text and in what a run keeps of its playbook.

Keys belong in environment variables (`api_key_env`); what a playbook holds itself (a
password in a `base_url`, an `api_key` in an autogen component's `config`) is masked before
the run record is stored, so the store, its WAL, exports and reports never hold it.
"""

from __future__ import annotations

import re
from typing import Any

REDACTED = "<redacted>"

SECRET_KEY = re.compile(
    r"(api[_-]?key|authorization|secret|password|passwd|token|credentials?)$", re.IGNORECASE
)
"""Names whose values are secrets (`max_tokens` and other `*_tokens` counts are not)."""

_KEY_SHAPED = re.compile(
    r"\b(?:sk|pk|rk)-[A-Za-z0-9_\-]{8,}"  # OpenAI, Anthropic, and their look-alikes
    r"|\b(?:hf|gsk|ghp|gho|ghs|github_pat|xox[abpr])_[A-Za-z0-9_]{8,}"  # HF, Groq, GitHub, Slack
    r"|\bAIza[A-Za-z0-9_\-]{20,}"  # Google
    r"|\bBearer\s+[A-Za-z0-9._\-]{8,}"
)
_URL_PASSWORD = re.compile(r"(?P<head>\b[A-Za-z][A-Za-z0-9+.\-]*://[^/\s:@]*:)[^/\s@]+(?=@)")
_MIXED_TOKEN = re.compile(r"^(?=.*[a-z])(?=.*[A-Z])(?=.*[0-9])[A-Za-z0-9_\-]{32,}$")


def is_secret_key(name: str) -> bool:
    """Whether a mapping key names a secret (`api_key`, `password`, ...)."""
    return bool(SECRET_KEY.search(name)) and not name.lower().endswith("_tokens")


def looks_like_key(value: str) -> bool:
    """Whether a value looks like a credential itself (`sk-...`, a long mixed-case token)."""
    return bool(_KEY_SHAPED.search(value) or _MIXED_TOKEN.match(value))


def redact_text(text: str) -> str:
    """`text` with key-shaped substrings and URL passwords masked."""
    text = _KEY_SHAPED.sub(REDACTED, text)
    return _URL_PASSWORD.sub(lambda match: match.group("head") + REDACTED, text)


def redact_value(value: Any, *, by_key: bool = True) -> Any:
    """A copy of JSON-like data with secrets masked: values under secret-looking keys (when
    `by_key`), key-shaped strings, and passwords in URLs."""
    if isinstance(value, dict):
        return {
            key: REDACTED
            if by_key and is_secret_key(str(key)) and item not in (None, "")
            else redact_value(item, by_key=by_key)
            for key, item in value.items()
        }
    if isinstance(value, list):
        return [redact_value(item, by_key=by_key) for item in value]
    if isinstance(value, str):
        return redact_text(value)
    return value


def redact_playbook(data: dict[str, Any]) -> dict[str, Any]:
    """A playbook's JSON form as a run record keeps it.

    Model configurations are masked by key and value (their `config` and headers are where
    secrets live); the rest only by value, since step parameters such as `stop_token` are
    named like secrets but are not.
    """
    redacted = redact_value(data, by_key=False)
    models = data.get("models")
    if isinstance(models, dict):
        redacted["models"] = redact_value(models, by_key=True)
    result: dict[str, Any] = redacted
    return result


def redacted_locations(data: Any, prefix: tuple[str | int, ...] = ()) -> list[str]:
    """Dotted paths of values that hold a mask (in a stored, already redacted playbook)."""
    if isinstance(data, dict):
        return [
            loc for key, item in data.items() for loc in redacted_locations(item, (*prefix, key))
        ]
    if isinstance(data, list):
        return [
            loc
            for index, item in enumerate(data)
            for loc in redacted_locations(item, (*prefix, index))
        ]
    if isinstance(data, str) and REDACTED in data:
        return [".".join(str(part) for part in prefix)]
    return []
