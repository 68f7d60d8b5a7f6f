"""Strict JSON for reading files: one parser that every saved-file reader shares.

Beyond `json.loads`, it refuses duplicate keys (two readers could disagree about which one
counts), the non-standard constants `NaN`/`Infinity`, bytes that are not UTF-8 and nesting
deep enough to exhaust the stack, each with an `ArchiveError` naming the source.

Example:
>>> from tritonlayers.saving.strict_json import loads
>>> loads(b'{"a": [1, 2]}', source="demo")
{'a': [1, 2]}
"""

import json
from typing import Any

from .errors import ArchiveError

__all__ = ["loads", "loads_object"]


def loads(data: "str | bytes", source: str) -> Any:
    """Parse JSON text (or UTF-8 bytes) strictly; raises `ArchiveError` naming `source`.

    Example:
    >>> from tritonlayers.saving.strict_json import loads
    >>> loads('{"a": 1, "a": 2}', source="demo")
    Traceback (most recent call last):
    tritonlayers.saving.errors.ArchiveError: demo: not valid JSON: duplicate keys ['a']
    """
    try:
        return json.loads(data, object_pairs_hook=_no_duplicates, parse_constant=_no_constant)
    except (UnicodeDecodeError, ValueError, RecursionError) as exc:
        raise ArchiveError(f"{source}: not valid JSON: {exc}") from None


def loads_object(data: "str | bytes", source: str) -> dict:
    """`loads`, and the value must be a JSON object.

    Example:
    >>> from tritonlayers.saving.strict_json import loads_object
    >>> loads_object("[1]", source="demo")
    Traceback (most recent call last):
    tritonlayers.saving.errors.ArchiveError: demo: expected a JSON object, found list.
    """
    value = loads(data, source)
    if not isinstance(value, dict):
        raise ArchiveError(f"{source}: expected a JSON object, found {type(value).__name__}.")
    return value


def _no_duplicates(pairs: list[tuple[str, Any]]) -> dict:
    result = dict(pairs)
    if len(result) != len(pairs):
        keys = [key for key, _ in pairs]
        raise ValueError(f"duplicate keys {sorted({k for k in keys if keys.count(k) > 1})}")
    return result


def _no_constant(name: str) -> None:
    raise ValueError(f"{name} is not allowed")
