"""Nested structures of tensors (lists, tuples, dicts) flattened to leaves and packed back.

Dict keys are visited in sorted order, as Keras's `tree` does, so a dict of inputs lines up
with a model's inputs the same way every time.

Example:
>>> from tritonlayers.models import tree
>>> tree.flatten({"b": 2, "a": [1, 3]})
[1, 3, 2]
>>> tree.pack_as({"b": 0, "a": [0, 0]}, [1, 3, 2])
{'a': [1, 3], 'b': 2}
"""

from collections.abc import Callable, Sequence
from typing import Any


def is_nested(structure: Any) -> bool:
    """Whether `structure` is a list, tuple or dict (rather than a leaf)."""
    return isinstance(structure, (list, tuple, dict))


def flatten(structure: Any) -> list:
    """The leaves of `structure`, depth first, dict values by sorted key."""
    if isinstance(structure, dict):
        return [leaf for key in sorted(structure) for leaf in flatten(structure[key])]
    if isinstance(structure, (list, tuple)):
        return [leaf for item in structure for leaf in flatten(item)]
    return [structure]


def pack_as(structure: Any, leaves: Sequence) -> Any:
    """Rebuild `structure`'s nesting with `leaves` (as given by `flatten`) in its place."""
    iterator = iter(leaves)
    packed = _pack(structure, iterator)
    if next(iterator, _END) is not _END:
        raise ValueError(f"pack_as received more leaves than {structure!r} holds.")
    return packed


_END = object()


def _pack(structure: Any, iterator) -> Any:
    if isinstance(structure, dict):
        return {key: _pack(structure[key], iterator) for key in sorted(structure)}
    if isinstance(structure, (list, tuple)):
        return type(structure)(_pack(item, iterator) for item in structure)
    leaf = next(iterator, _END)
    if leaf is _END:
        raise ValueError("pack_as received fewer leaves than the structure holds.")
    return leaf


def map_structure(fn: Callable, structure: Any) -> Any:
    """`structure` with `fn` applied to every leaf."""
    return pack_as(structure, [fn(leaf) for leaf in flatten(structure)])
