"""Keras's functional control flow over Python and torch: cond, loops, map, scan.

These run eagerly (``torch.compile`` unrolls or specializes them as it traces). A tensor
predicate in ``cond`` or ``while_loop`` is read on the host, as in Keras's torch backend.

Example:
>>> import tritonlayers as keras
>>> keras.ops.fori_loop(0, 4, lambda i, total: total + i, 0)
6
"""

from collections.abc import Callable
from typing import Any

import torch

from ._utils import tensor

Tensor = torch.Tensor

__all__ = ["cond", "fori_loop", "map", "scan", "switch", "vectorized_map", "while_loop"]


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
