"""`keras.tree`: work on nested structures (lists, tuples, namedtuples, deques and dicts).

Leaves are everything else, `None` included. Dict values are visited by sorted key (an
`OrderedDict` in its own order), so a dict flattens the same way every time; packing a
flat list back restores the dict with its original key order.

Example:
>>> import tritonlayers as keras
>>> keras.tree.flatten({"b": 2, "a": [1, None]})
[1, None, 2]
>>> keras.tree.map_structure(lambda x, y: x + y, [1, (2, 3)], [10, (20, 30)])
[11, (22, 33)]
>>> keras.tree.pack_sequence_as({"b": 0, "a": [0, 0]}, ["x", "y", "z"])
{'b': 'z', 'a': ['x', 'y']}
"""

import collections
import warnings
from collections.abc import Callable, Sequence
from typing import Any

__all__ = [
    "MAP_TO_NONE",
    "assert_same_paths",
    "assert_same_structure",
    "flatten",
    "flatten_with_path",
    "is_nested",
    "lists_to_tuples",
    "map_shape_structure",
    "map_structure",
    "map_structure_up_to",
    "pack_sequence_as",
    "traverse",
]


class MAP_TO_NONE:  # noqa: N801 (Keras's name)
    """Return this from a `traverse` function to replace a sub-tree with `None`."""


def _is_namedtuple(value: Any) -> bool:
    return isinstance(value, tuple) and hasattr(type(value), "_fields")


def is_nested(structure: Any) -> bool:
    """Whether `structure` is a list, tuple, namedtuple, deque or dict (not a leaf).

    Example:
    >>> is_nested(42), is_nested({"foo": 42}), is_nested(None)
    (False, True, False)
    """
    kind = type(structure)
    return kind in _NODE_TYPES or _is_namedtuple(structure)


_NODE_TYPES = (
    list,
    tuple,
    dict,
    collections.OrderedDict,
    collections.defaultdict,
    collections.deque,
)


def _keys(structure: Any) -> list:
    """The child keys of a nested value, in visiting order (dict keys sorted)."""
    if isinstance(structure, collections.OrderedDict):
        return list(structure)
    if isinstance(structure, dict):
        try:
            return sorted(structure)
        except TypeError as error:
            raise TypeError(
                f"keras.tree needs sortable dict keys; received keys {list(structure)}."
            ) from error
    return list(range(len(structure)))


def _children(structure: Any) -> list:
    if isinstance(structure, dict):
        return [structure[key] for key in _keys(structure)]
    return list(structure)


def _rebuild(structure: Any, children: Sequence) -> Any:
    """A node of `structure`'s type holding `children` (given in visiting order)."""
    if isinstance(structure, dict):
        by_key = dict(zip(_keys(structure), children))
        items = [(key, by_key[key]) for key in structure]
        if isinstance(structure, collections.defaultdict):
            return collections.defaultdict(structure.default_factory, items)
        return type(structure)(items)
    if _is_namedtuple(structure):
        return type(structure)(*children)
    if isinstance(structure, collections.deque):
        return collections.deque(children, maxlen=structure.maxlen)
    return type(structure)(children)


def flatten(structure: Any) -> list:
    """The leaves of `structure`, depth first (a leaf gives a one-item list).

    Example:
    >>> flatten([[1, 2, 3], [4, [5], [[6]]]]), flatten(None), flatten({100: "b", 6: "a"})
    ([1, 2, 3, 4, 5, 6], [None], ['a', 'b'])
    """
    if not is_nested(structure):
        return [structure]
    return [leaf for child in _children(structure) for leaf in flatten(child)]


def flatten_with_path(structure: Any) -> list:
    """`(path, leaf)` pairs: a path is the tuple of indices and dict keys leading to a leaf.

    Example:
    >>> flatten_with_path([{"foo": 42}, 7])
    [((0, 'foo'), 42), ((1,), 7)]
    """
    if not is_nested(structure):
        return [((), structure)]
    pairs = []
    for key, child in zip(_keys(structure), _children(structure)):
        pairs.extend(((key, *path), leaf) for path, leaf in flatten_with_path(child))
    return pairs


def pack_sequence_as(structure: Any, flat_sequence: Sequence) -> Any:
    """`flat_sequence` (as `flatten` orders it) arranged in the nesting of `structure`.

    Example:
    >>> pack_sequence_as((("a", "b"), ("c", "d", "e"), "f"), [1, 2, 3, 4, 5, 6])
    ((1, 2), (3, 4, 5), 6)
    """
    if isinstance(flat_sequence, (str, bytes)) or not hasattr(flat_sequence, "__iter__"):
        raise TypeError(
            f"`flat_sequence` must be a sequence; received {type(flat_sequence).__name__}."
        )
    flat = list(flat_sequence)
    expected = len(flatten(structure))
    if len(flat) != expected:
        raise ValueError(
            f"Cannot pack a flat sequence of {len(flat)} elements into a structure with "
            f"{expected} leaves. Structure: {structure!r}"
        )
    iterator = iter(flat)
    return _pack(structure, iterator)


def _pack(structure: Any, iterator) -> Any:
    if not is_nested(structure):
        return next(iterator)
    return _rebuild(structure, [_pack(child, iterator) for child in _children(structure)])


def _same_node(a: Any, b: Any) -> bool:
    """Whether two nested values are the same kind of node with the same keys/length."""
    if isinstance(a, dict) and isinstance(b, dict):
        return set(a) == set(b)
    if type(a) is not type(b):
        return False
    return len(a) == len(b)


def _mismatch(a: Any, b: Any, path: tuple) -> ValueError:
    return ValueError(
        "The two structures don't have the same nested structure. At path "
        f"{path}, first structure: {a!r} ({type(a).__name__}), second structure: {b!r} "
        f"({type(b).__name__})."
    )


def _check_same(a: Any, b: Any, path: tuple = ()) -> None:
    if is_nested(a) != is_nested(b):
        raise _mismatch(a, b, path)
    if not is_nested(a):
        return
    if not _same_node(a, b):
        raise _mismatch(a, b, path)
    b_children = dict(zip(_keys(b), _children(b)))
    for key, child in zip(_keys(a), _children(a)):
        _check_same(child, b_children[key], (*path, key))


def assert_same_structure(a: Any, b: Any, check_types: "bool | None" = None) -> None:
    """Raise ValueError unless `a` and `b` nest the same way.

    At each level both must be the same type (a list is not a tuple; two namedtuple classes
    differ) with the same length; any two dicts match when their keys do.

    Example:
    >>> assert_same_structure([(0, 1)], [(2, 3)])
    >>> assert_same_structure([0, 1], (2, 3))  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: The two structures don't have the same nested structure. ...
    """
    if check_types is not None:
        advice = "" if check_types else " For a looser check, use `keras.tree.assert_same_paths()`."
        warnings.warn(
            f"The `check_types` argument is deprecated and no longer has any effect.{advice}",
            DeprecationWarning,
            stacklevel=2,
        )
    _check_same(a, b)


def assert_same_paths(a: Any, b: Any) -> None:
    """Raise ValueError unless `a` and `b` have the same leaf paths (container types ignored).

    Example:
    >>> assert_same_paths([0, 1], (2, 3))
    >>> assert_same_paths({"a": 0}, {"b": 0})  # doctest: +ELLIPSIS
    Traceback (most recent call last):
    ValueError: `a` and `b` don't have the same paths...
    """
    a_paths = {path for path, _ in flatten_with_path(a)}
    b_paths = {path for path, _ in flatten_with_path(b)}
    if a_paths == b_paths:
        return
    message = "`a` and `b` don't have the same paths."
    if a_paths - b_paths:
        message += f"\nPaths in `a` missing in `b`:\n{a_paths - b_paths}"
    if b_paths - a_paths:
        message += f"\nPaths in `b` missing in `a`:\n{b_paths - a_paths}"
    raise ValueError(message)


def map_structure(func: Callable, *structures: Any, none_is_leaf: bool = True) -> Any:
    """`func` applied to the leaves of `structures` (all nested alike), in their nesting.

    With `none_is_leaf=False`, `None` leaves are kept as `None` without calling `func`.

    Example:
    >>> import collections
    >>> Foo = collections.namedtuple("Foo", ["a", "b"])
    >>> map_structure(lambda v: v * 2, Foo(a=1, b=2))
    Foo(a=2, b=4)
    >>> map_structure(lambda v: v + 1, [1, None], none_is_leaf=False)
    [2, None]
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable; received {func!r}.")
    if not structures:
        raise TypeError("map_structure needs at least one structure.")
    for other in structures[1:]:
        _check_same(structures[0], other)
    columns = [flatten(s) for s in structures]
    results = []
    for leaves in zip(*columns):
        if not none_is_leaf and leaves[0] is None:
            if any(leaf is not None for leaf in leaves):
                raise ValueError(
                    "Structure mismatch: some arguments are None, others are not. "
                    f"Received arguments: {leaves}."
                )
            results.append(None)
        else:
            results.append(func(*leaves))
    return _pack(structures[0], iter(results))


def map_structure_up_to(shallow_structure: Any, func: Callable, *structures: Any) -> Any:
    """Like `map_structure`, but only down to the leaves of `shallow_structure`: `func`
    receives whatever sub-trees of `structures` sit there.

    Example:
    >>> map_structure_up_to([None, None], len, [[1, 1], [2, 2]])
    [2, 2]
    >>> map_structure_up_to([None, [None, None]], str, [[1, 1], [2, 2]])
    ['[1, 1]', ['2', '2']]
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable; received {func!r}.")
    if not structures:
        raise TypeError("map_structure_up_to needs at least one structure.")
    return _map_up_to(shallow_structure, func, structures, ())


def _map_up_to(shallow: Any, func: Callable, structures: tuple, path: tuple) -> Any:
    if not is_nested(shallow):
        return func(*structures)
    for structure in structures:
        if not is_nested(structure) or not _same_node(shallow, structure):
            raise _mismatch(shallow, structure, path)
    keys = _keys(shallow)
    per_structure = [dict(zip(_keys(s), _children(s))) for s in structures]
    children = [
        _map_up_to(child, func, tuple(s[key] for s in per_structure), (*path, key))
        for key, child in zip(keys, _children(shallow))
    ]
    return _rebuild(shallow, children)


def traverse(func: Callable, structure: Any, top_down: bool = True) -> Any:
    """Call `func` on every sub-tree (the whole structure and each nested node and leaf).

    Top down (the default), a non-None result replaces that sub-tree and stops the descent
    into it. Bottom up, `func` sees sub-trees already traversed and a non-None result
    replaces them. Return `MAP_TO_NONE` to put `None` in the result.

    Example:
    >>> seen = []
    >>> traverse(seen.append, [(1, 2), [3]])
    [(1, 2), [3]]
    >>> seen
    [[(1, 2), [3]], (1, 2), 1, 2, [3], 3]
    >>> traverse(lambda x: "leaf" if not is_nested(x) else None, [1, (2,)])
    ['leaf', ('leaf',)]
    """
    if not callable(func):
        raise TypeError(f"`func` must be callable; received {func!r}.")
    if top_down:
        result = func(structure)
        if result is None:
            result = _traverse_children(func, structure, top_down)
    else:
        structure = _traverse_children(func, structure, top_down)
        result = func(structure)
        if result is None:
            result = structure
    return None if result is MAP_TO_NONE else result


def _traverse_children(func: Callable, structure: Any, top_down: bool) -> Any:
    if not is_nested(structure):
        return structure
    children = [traverse(func, child, top_down) for child in _children(structure)]
    return _rebuild(structure, children)


def lists_to_tuples(structure: Any) -> Any:
    """`structure` with every list replaced by a tuple, at every depth.

    Example:
    >>> lists_to_tuples([1, {"a": [2, 3]}])
    (1, {'a': (2, 3)})
    """
    return traverse(lambda x: tuple(x) if isinstance(x, list) else None, structure, False)


def _is_shape(value: Any) -> bool:
    return isinstance(value, (list, tuple)) and all(
        isinstance(dim, (int, type(None))) for dim in value
    )


def map_shape_structure(func: Callable, structure: Any) -> Any:
    """Like `map_structure`, but a list or tuple of ints and Nones (a shape) is one leaf.

    Example:
    >>> map_shape_structure(lambda s: s[-1], {"x": (None, 3), "y": [(2, 4), (5,)]})
    {'x': 3, 'y': [4, 5]}
    """
    if _is_shape(structure) or not is_nested(structure):
        return func(structure)
    children = [map_shape_structure(func, child) for child in _children(structure)]
    return _rebuild(structure, children)
