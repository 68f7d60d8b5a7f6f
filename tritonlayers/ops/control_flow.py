"""Keras's functional control flow over Python and torch: cond, loops, map, scans.

These run eagerly (``torch.compile`` unrolls or specializes them as it traces). A tensor
predicate in ``cond`` or ``while_loop`` is read on the host, as in Keras's torch backend.

Example:
>>> import tritonlayers as keras
>>> keras.ops.fori_loop(0, 4, lambda i, total: total + i, 0)
6
"""

import builtins
from collections.abc import Callable
from typing import Any

import torch

from ._utils import axes, tensor

Tensor = torch.Tensor

__all__ = [
    "associative_scan",
    "cond",
    "fori_loop",
    "map",
    "scan",
    "switch",
    "vectorized_map",
    "while_loop",
]


def cond(pred: Any, true_fn: Callable[[], Any], false_fn: Callable[[], Any]) -> Any:
    """``true_fn()`` if ``pred`` holds, else ``false_fn()``.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.cond(True, lambda: "yes", lambda: "no")
    'yes'
    """
    return true_fn() if bool(pred) else false_fn()


def switch(index: Any, branches: "list[Callable[..., Any]]", *operands: Any) -> Any:
    """``branches[index](*operands)``, with ``index`` clipped to the valid range.

    Example: ``keras.ops.switch(1, [lambda x: x + 1, lambda x: x * 10], 3)`` gives 30.
    """
    chosen = min(max(int(index), 0), len(branches) - 1)
    return branches[chosen](*operands)


def fori_loop(lower: int, upper: int, body_fun: Callable[[int, Any], Any], init_val: Any) -> Any:
    """``val = body_fun(i, val)`` for ``i`` in ``range(lower, upper)``; returns ``val``.

    Example: ``keras.ops.fori_loop(0, 4, lambda i, total: total + i, 0)`` gives 6.
    """
    value = init_val
    for i in range(int(lower), int(upper)):
        value = body_fun(i, value)
    return value


def while_loop(
    cond: Callable[..., Any],
    body: Callable[..., Any],
    loop_vars: Any,
    maximum_iterations: "int | None" = None,
) -> Any:
    """``loop_vars = body(*loop_vars)`` while ``cond(*loop_vars)`` (at most
    ``maximum_iterations`` times). A single (non-tuple) ``loop_vars`` is passed as is.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.while_loop(lambda i: i < 10, lambda i: i * 2, 1)
    16
    """
    single = not isinstance(loop_vars, (tuple, list))
    state = (loop_vars,) if single else tuple(loop_vars)
    iterations = 0
    while (maximum_iterations is None or iterations < maximum_iterations) and bool(cond(*state)):
        result = body(*state)
        state = (result,) if single else tuple(result)
        iterations += 1
    if single:
        return state[0]
    return list(state) if isinstance(loop_vars, list) else state


def map(f: Callable[[Any], Any], xs: Any) -> Tensor:  # noqa: A001
    """``f`` applied to each slice of ``xs`` along axis 0, results stacked.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.map(lambda row: row.sum(), keras.ops.ones((3, 2))).tolist()
    [2.0, 2.0, 2.0]
    """
    return torch.stack([tensor(f(x)) for x in tensor(xs)])


def scan(
    f: Callable[[Any, Any], tuple[Any, Any]],
    init: Any,
    xs: Any = None,
    length: "int | None" = None,
    reverse: bool = False,
    unroll: int = 1,
) -> tuple[Any, Any]:
    """Carry a state through ``xs``: ``carry, y = f(carry, x)``; returns the last carry and
    the stacked ``y`` (None when ``f`` returns no outputs).

    Example:
    >>> import tritonlayers as keras
    >>> carry, ys = keras.ops.scan(lambda c, x: (c + x, c + x), 0.0, keras.ops.ones(3))
    >>> float(carry), ys.tolist()
    (3.0, [1.0, 2.0, 3.0])
    """
    if xs is None and length is None:
        raise ValueError("scan: give `xs` or `length`.")
    steps = length if xs is None else tensor(xs).shape[0]
    order = range(steps - 1, -1, -1) if reverse else range(steps)
    carry, outputs = _as_tensors(init), []
    for i in order:
        carry, y = f(carry, None if xs is None else tensor(xs)[i])
        outputs.append(y)
    if reverse:
        outputs.reverse()
    if not outputs or outputs[0] is None:
        return carry, None
    return carry, torch.stack([tensor(y) for y in outputs])


def _as_tensors(structure: Any) -> Any:
    """Numbers and arrays in a (nested tuple/list/dict) structure as tensors."""
    if isinstance(structure, (tuple, list)):
        return type(structure)(_as_tensors(item) for item in structure)
    if isinstance(structure, dict):
        return {key: _as_tensors(value) for key, value in structure.items()}
    return tensor(structure)


def vectorized_map(function: Callable[[Any], Any], elements: Any) -> Any:
    """``function`` mapped over axis 0 of ``elements`` with ``torch.vmap``.

    Example: ``keras.ops.vectorized_map(lambda row: row * 2, keras.ops.ones((3, 2)))``
    """
    return torch.vmap(function)(_as_tensors(elements))


def _leaves(structure: Any) -> list:
    """The leaves of a nested tuple/list/dict structure, in order."""
    if isinstance(structure, (tuple, list)):
        return [leaf for item in structure for leaf in _leaves(item)]
    if isinstance(structure, dict):
        return [leaf for item in structure.values() for leaf in _leaves(item)]
    return [structure]


def _rebuild(structure: Any, leaves: Any) -> Any:
    """``structure`` with its leaves replaced, in order, from the iterator ``leaves``."""
    if isinstance(structure, (tuple, list)):
        return type(structure)(_rebuild(item, leaves) for item in structure)
    if isinstance(structure, dict):
        return {key: _rebuild(item, leaves) for key, item in structure.items()}
    return next(leaves)


def _along(x: Tensor, axis: int, start: "int | None", stop: "int | None", step: int = 1):
    return x[(builtins.slice(None),) * axis + (builtins.slice(start, stop, step),)]


def associative_scan(
    f: Callable[[Any, Any], Any], elems: Any, reverse: bool = False, axis: int = 0
) -> Any:
    """The inclusive prefix scan ``f(...f(f(e0, e1), e2)..., ek)`` of every position along
    ``axis``, for an associative ``f`` that combines whole slices (``elems`` may be a
    nested structure of tensors of one length along ``axis``; ``f`` takes and returns
    that structure). Runs in about ``2 * log2(n)`` batched calls of ``f``.

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.ops.convert_to_tensor([1.0, 2.0, 3.0, 4.0])
    >>> keras.ops.associative_scan(keras.ops.add, x).tolist()
    [1.0, 3.0, 6.0, 10.0]
    """
    if not callable(f):
        raise TypeError(f"`f` should be a callable. Received: f={f}")
    flat = [tensor(leaf) for leaf in _leaves(elems)]
    if any(leaf.ndim == 0 for leaf in flat):
        raise ValueError(
            "associative_scan scans tensors along an axis; received a scalar among "
            f"`elems` (shapes: {[tuple(leaf.shape) for leaf in flat]})."
        )
    axis = axes(axis, flat[0].ndim)[0]
    lengths = [leaf.shape[axis] for leaf in flat]
    if len(set(lengths)) != 1:
        raise ValueError(
            "Array inputs to associative_scan must have the same first dimension. "
            f"(saw: {[tuple(leaf.shape) for leaf in flat]})"
        )

    def combine(a: list, b: list) -> list:
        result = f(_rebuild(elems, iter(a)), _rebuild(elems, iter(b)))
        return [tensor(leaf) for leaf in _leaves(result)]

    def scan_leaves(items: list) -> list:
        n = items[0].shape[axis]
        if n < 2:
            return items
        # Prefixes ending at odd positions: scan the combined adjacent pairs (0,1), (2,3), ...
        odd = scan_leaves(
            combine(
                [_along(x, axis, 0, n - 1, 2) for x in items],
                [_along(x, axis, 1, None, 2) for x in items],
            )
        )
        # Prefixes ending at even positions 2, 4, ...: the previous odd prefix + the item.
        previous = odd if n % 2 else [_along(o, axis, 0, -1) for o in odd]
        later = combine(previous, [_along(x, axis, 2, None, 2) for x in items])
        even = [torch.cat([_along(x, axis, 0, 1), e], dim=axis) for x, e in zip(items, later)]
        return [_interleave(e, o, axis) for e, o in zip(even, odd)]

    if reverse:
        flat = [torch.flip(leaf, (axis,)) for leaf in flat]
    scanned = scan_leaves(flat)
    if reverse:
        scanned = [torch.flip(leaf, (axis,)) for leaf in scanned]
    return _rebuild(elems, iter(scanned))


def _interleave(even: Tensor, odd: Tensor, axis: int) -> Tensor:
    """``even[0], odd[0], even[1], odd[1], ...`` along ``axis`` (``even`` may be one longer)."""
    paired = torch.stack([_along(even, axis, 0, odd.shape[axis]), odd], dim=axis + 1)
    merged = paired.flatten(axis, axis + 1)
    if even.shape[axis] == odd.shape[axis]:
        return merged
    return torch.cat([merged, _along(even, axis, -1, None)], dim=axis)
