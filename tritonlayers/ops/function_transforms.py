"""Ops that transform Python functions: custom gradients, forward-mode derivatives and
numpy-style vectorization.

They run eagerly on torch tensors (``torch.autograd.Function`` and ``torch.func``) and do
not become functional-graph nodes.

Example:
>>> import tritonlayers as keras
>>> add_pairs = keras.ops.vectorize(lambda a, b: a + b)
>>> add_pairs([[1.0], [2.0]], [10.0, 20.0]).tolist()
[[11.0, 21.0], [12.0, 22.0]]
"""

import functools
import math
import re
from collections.abc import Callable
from typing import Any

import torch

from ._utils import tensor

Tensor = torch.Tensor

__all__ = ["custom_gradient", "jvp", "vectorize"]


class _CustomGradient(torch.autograd.Function):
    """Runs ``f(*args) -> (output, grad_fn)`` forward and ``grad_fn`` backward."""

    @staticmethod
    def forward(ctx: Any, f: Callable, kwargs: dict, *args: Tensor) -> Any:
        result = f(*args, **kwargs)
        if not (isinstance(result, (tuple, list)) and len(result) == 2 and callable(result[1])):
            raise TypeError(
                "custom_gradient: the decorated function must return a pair "
                f"(output, grad_fn) with a callable grad_fn; received {type(result).__name__}."
            )
        output, ctx.grad_fn = result
        ctx.save_for_backward(*args)
        return output

    @staticmethod
    def backward(ctx: Any, *upstream: Tensor) -> tuple:
        grads = ctx.grad_fn(
            *ctx.saved_tensors, upstream=upstream[0] if len(upstream) == 1 else upstream
        )
        grads = tuple(grads) if isinstance(grads, (tuple, list)) else (grads,)
        if len(grads) != len(ctx.saved_tensors):
            raise ValueError(
                f"custom_gradient: grad_fn returned {len(grads)} gradient(s) for "
                f"{len(ctx.saved_tensors)} input(s); return one per positional input."
            )
        return (None, None, *grads)


def custom_gradient(f: Callable[..., Any]) -> Callable[..., Any]:
    """Decorator: ``f(*args)`` returns ``(output, grad_fn)``; the decorated function returns
    ``output`` and backpropagates through ``grad_fn(*args, upstream=...)`` instead of
    through ``f``'s own operations. ``grad_fn`` returns one gradient per positional input
    (``upstream`` is the gradient of the loss with respect to ``output``).

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> @keras.ops.custom_gradient
    ... def clipped_identity(x):
    ...     def grad_fn(*args, upstream=None):
    ...         return keras.ops.clip(upstream, -1.0, 1.0)
    ...     return x * 1.0, grad_fn
    >>> x = torch.tensor([2.0], requires_grad=True)
    >>> (clipped_identity(x) * 5.0).sum().backward()
    >>> x.grad.tolist()
    [1.0]
    """
    if not callable(f):
        raise TypeError(f"custom_gradient expects a callable; received {type(f).__name__}.")

    @functools.wraps(f)
    def with_custom_gradient(*args: Any, **kwargs: Any) -> Any:
        return _CustomGradient.apply(f, kwargs, *(tensor(arg) for arg in args))

    return with_custom_gradient


def jvp(fun: Callable[..., Any], primals: Any, tangents: Any, has_aux: bool = False) -> tuple:
    """``fun(*primals)`` and its Jacobian-vector product with ``tangents`` (forward mode,
    ``torch.func.jvp``); with ``has_aux``, ``fun`` returns ``(output, aux)`` and ``aux`` is
    returned third.

    Example:
    >>> import tritonlayers as keras
    >>> value, derivative = keras.ops.jvp(keras.ops.square, ([3.0],), ([1.0],))
    >>> value.tolist(), derivative.tolist()
    ([9.0], [6.0])
    """
    if not isinstance(primals, (tuple, list)) or not isinstance(tangents, (tuple, list)):
        raise TypeError(
            "jvp expects `primals` and `tangents` as tuples or lists (one item per argument "
            f"of `fun`); received {type(primals).__name__} and {type(tangents).__name__}."
        )
    if len(primals) != len(tangents):
        raise ValueError(
            f"jvp: got {len(primals)} primal(s) but {len(tangents)} tangent(s); give one "
            "tangent per primal."
        )
    primals = tuple(tensor(p) for p in primals)
    tangents = tuple(tensor(t).to(p.dtype) for p, t in zip(primals, tangents))
    return torch.func.jvp(fun, primals, tangents, has_aux=has_aux)


_DIMENSION = r"\w+"
_CORE = rf"\((?:{_DIMENSION}(?:,{_DIMENSION})*)?\)"
_SIGNATURE = re.compile(rf"^{_CORE}(?:,{_CORE})*->{_CORE}(?:,{_CORE})*$")


def _parse_signature(signature: str) -> tuple[list[tuple[str, ...]], list[tuple[str, ...]]]:
    """A gufunc signature such as ``"(m,n),(n)->(m)"`` as input and output core dims."""
    compact = signature.replace(" ", "")
    if not _SIGNATURE.match(compact):
        raise ValueError(f"not a valid gufunc signature: {signature}")
    inputs, outputs = compact.split("->")
    return (
        [tuple(re.findall(_DIMENSION, arg)) for arg in re.findall(_CORE, side)]
        for side in (inputs, outputs)
    )


def _record_sizes(sizes: dict, shape: tuple, core: tuple, what: str) -> None:
    """Check ``shape``'s trailing dims against the named core dims seen so far."""
    if len(shape) < len(core):
        raise ValueError(
            f"{what} with shape {shape} does not have enough dimensions for all core "
            f"dimensions {core}"
        )
    for name, size in zip(core, shape[len(shape) - len(core) :]):
        if sizes.setdefault(name, size) != size:
            raise ValueError(
                f"inconsistent size for core dimension {name!r}: {size} vs {sizes[name]}"
            )


def _split_excluded(args: tuple, excluded: set) -> tuple[list, Callable]:
    """The vectorized positional args (excluded ones and None removed), and a function that
    puts the removed ones back in place."""
    fixed = {i: arg for i, arg in enumerate(args) if i in excluded or arg is None}
    mapped = [arg for i, arg in enumerate(args) if i not in fixed]

    def restore(*values: Any) -> list:
        values, merged = list(values), []
        for i in range(len(args)):
            merged.append(fixed[i] if i in fixed else values.pop(0))
        return merged

    return mapped, restore


def vectorize(
    pyfunc: Callable[..., Any],
    *,
    excluded: "set | None" = None,
    signature: "str | None" = None,
) -> Callable[..., Any]:
    """``pyfunc`` applied over the broadcast leading ("loop") dims of its tensor arguments,
    like ``numpy.vectorize``, with ``torch.vmap``. ``signature`` (e.g. ``"(n),(n)->()"``)
    names the trailing core dims each argument and result keeps; without it every element
    is a separate call. Positional indices in ``excluded`` (and None arguments) are passed
    unchanged; keyword arguments are always passed unchanged.

    Example:
    >>> import tritonlayers as keras
    >>> row_dot = keras.ops.vectorize(keras.ops.dot, signature="(n),(n)->()")
    >>> row_dot([[1.0, 2.0], [3.0, 4.0]], [1.0, 1.0]).tolist()
    [3.0, 7.0]
    """
    if not callable(pyfunc):
        raise ValueError(f"Expected argument `pyfunc` to be a callable. Received: pyfunc={pyfunc}")
    excluded = set(excluded or ())
    input_cores, output_cores = _parse_signature(signature) if signature else (None, None)

    @functools.wraps(pyfunc)
    def vectorized(*args: Any, **kwargs: Any) -> Any:
        mapped, restore = _split_excluded(args, excluded)
        if not mapped:
            return pyfunc(*args, **kwargs)
        mapped = [tensor(arg) for arg in mapped]
        cores = input_cores if input_cores is not None else [()] * len(mapped)
        if len(cores) != len(mapped):
            raise TypeError(
                f"wrong number of positional arguments: expected {len(cores)}, got {len(mapped)}"
            )
        sizes: dict = {}
        for arg, core in zip(mapped, cores):
            _record_sizes(sizes, tuple(arg.shape), core, "input")
        loops = [tuple(arg.shape[: arg.ndim - len(core)]) for arg, core in zip(mapped, cores)]
        loop_shape = tuple(torch.broadcast_shapes(*loops)) if loops else ()
        count = math.prod(loop_shape)
        flat = [
            arg.expand(*loop_shape, *arg.shape[arg.ndim - len(core) :]).reshape(
                count, *arg.shape[arg.ndim - len(core) :]
            )
            for arg, core in zip(mapped, cores)
        ]

        def one_call(*items: Tensor) -> Any:
            result = pyfunc(*restore(*items), **kwargs)
            if output_cores is not None:
                results = result if isinstance(result, tuple) else (result,)
                if len(output_cores) > 1 and not isinstance(result, tuple):
                    raise TypeError(
                        f"output must be a tuple when multiple outputs are expected, got: {result}"
                    )
                if len(results) != len(output_cores):
                    raise TypeError(
                        "wrong number of output arguments: expected "
                        f"{len(output_cores)}, got {len(results)}"
                    )
                out_sizes = dict(sizes)
                for value, core in zip(results, output_cores):
                    if tensor(value).ndim != len(core):
                        raise ValueError(
                            f"output shape {tuple(tensor(value).shape)} does not match core "
                            f"dimensions {core}"
                        )
                    _record_sizes(out_sizes, tuple(tensor(value).shape), core, "output")
            return result

        results = torch.vmap(one_call)(*flat)

        def unflatten(value: Tensor) -> Tensor:
            return value.reshape(*loop_shape, *value.shape[1:])

        if isinstance(results, tuple):
            return tuple(unflatten(value) for value in results)
        return unflatten(results)

    return vectorized
