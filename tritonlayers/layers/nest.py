"""Nested structures of call arguments: lists, tuples and dicts of tensors (and None).

Example:
>>> from tritonlayers.layers.nest import flatten, map_structure
>>> flatten([1, (2, {"a": 3})]), map_structure(lambda v: v * 10, (1, [2]))
([1, 2, 3], (10, [20]))
"""

from collections.abc import Callable
from typing import Any


def flatten(value: Any) -> list:
    """The leaves of `value` in order (dicts by insertion order).

    Example:
    >>> flatten({"a": [1, 2], "b": 3})
    [1, 2, 3]
    """
    if isinstance(value, (list, tuple)):
        return [leaf for item in value for leaf in flatten(item)]
    if isinstance(value, dict):
        return [leaf for item in value.values() for leaf in flatten(item)]
    return [value]


def map_structure(fn: Callable[[Any], Any], value: Any) -> Any:
    """`value` with every leaf replaced by `fn(leaf)`; lists, tuples and dicts keep their type.

    Example:
    >>> map_structure(str, {"a": (1, 2)})
    {'a': ('1', '2')}
    """
    if isinstance(value, list):
        return [map_structure(fn, item) for item in value]
    if isinstance(value, tuple):
        mapped = [map_structure(fn, item) for item in value]
        return type(value)(*mapped) if hasattr(value, "_fields") else tuple(mapped)
    if isinstance(value, dict):
        return {key: map_structure(fn, item) for key, item in value.items()}
    return fn(value)
