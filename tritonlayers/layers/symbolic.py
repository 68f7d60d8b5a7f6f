"""Symbolic tensors and graph nodes: the functional API's building blocks.

Calling a layer on a `KerasTensor` (a shape and a dtype, no data) builds the layer from the
shapes, computes output KerasTensors, records a `Node` in `layer._inbound_nodes`, and stamps
each output with `_keras_history = (layer, node_index, tensor_index)`. Outputs come from the
layer's own `compute_output_shape` when it defines one; otherwise `call` is traced on fake
tensors (torch's FakeTensorMode: shapes and dtypes only, no math, no state changes), twice
with different sizes for the unknown (None) dimensions so they stay None in the result. A
`call` that fake tensors cannot run (one that reads a computed value back into Python) runs
on real tensors of ones instead, with copies of the variables.

Example:
>>> import tritonlayers as keras
>>> from tritonlayers.layers.symbolic import KerasTensor
>>> x = KerasTensor((None, 3))
>>> y = keras.Layer()(x)
>>> y.shape, y._keras_history.node_index
((None, 3), 0)
"""

import collections
from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensorMode, unset_fake_temporarily
from torch.overrides import TorchFunctionMode

from .. import config
from ..dtype_policies import standardize_dtype, to_torch_dtype
from .call_context import STATE
from .naming import unique_name
from .nest import flatten, map_structure
from .variables import Variable

# Two sizes that stand in for a None dimension while tracing; output sizes that differ
# between the two runs are None in the result.
_STAND_IN_SIZES = (83, 89)

KerasHistory = collections.namedtuple("KerasHistory", ["operation", "node_index", "tensor_index"])


class KerasTensor:
    """A symbolic tensor: `shape` (a tuple, None for unknown sizes) and `dtype` (a name).

    Example:
    >>> t = KerasTensor((None, 4), dtype="float16", name="x")
    >>> t.shape, t.dtype, t.ndim
    ((None, 4), 'float16', 2)
    """

    def __init__(self, shape: Any, dtype: Any = "float32", sparse: bool = False, name=None):
        self.shape = _standardize_shape(shape)
        # Keras's symbolic string tensors (`Input(dtype="string")` feeding a text layer).
        self.dtype = "string" if dtype in ("string", str) else standardize_dtype(dtype)
        self.sparse = bool(sparse)
        # Unnamed, it takes Keras's automatic name: keras_tensor, keras_tensor_1, ...
        self.name = name or unique_name("keras_tensor")
        self._keras_history = None
        self._keras_mask = None

    @property
    def ndim(self) -> int:
        """The rank."""
        return len(self.shape)

    def __repr__(self) -> str:
        return (
            f"<KerasTensor shape={self.shape}, dtype={self.dtype}, sparse={self.sparse}, "
            f"ragged=False, name={self.name}>"
        )

    def __bool__(self) -> bool:
        raise TypeError("A symbolic KerasTensor cannot be used as a Python bool.")


def _operator(op_name: str, reflected: bool = False):
    """A KerasTensor operator that records `tritonlayers.ops.<op_name>` as a graph node."""

    def method(self: KerasTensor, other: Any = None) -> Any:
        from .. import ops

        op = getattr(ops, op_name)
        if other is None and op_name in _UNARY_OPS:
            return op(self)
        return op(other, self) if reflected else op(self, other)

    method.__name__ = f"__{'r' if reflected else ''}{op_name}__"
    method.__doc__ = f"`ops.{op_name}` on symbolic tensors (a node of the functional graph)."
    return method


_UNARY_OPS = frozenset({"negative", "absolute", "logical_not"})
_REFLECTABLE = {
    "add": "add",
    "sub": "subtract",
    "mul": "multiply",
    "truediv": "divide",
    "floordiv": "floor_divide",
    "mod": "mod",
    "pow": "power",
    "matmul": "matmul",
}
_ONE_SIDED = {
    "lt": "less",
    "le": "less_equal",
    "gt": "greater",
    "ge": "greater_equal",
    "and": "logical_and",
    "or": "logical_or",
    "neg": "negative",
    "abs": "absolute",
    "invert": "logical_not",
}


def _install_operators() -> None:
    """Give KerasTensor Python's arithmetic and comparison operators (`x + 1`, `-x`, ...)."""
    for dunder, op_name in _REFLECTABLE.items():
        setattr(KerasTensor, f"__{dunder}__", _operator(op_name))
        setattr(KerasTensor, f"__r{dunder}__", _operator(op_name, reflected=True))
    for dunder, op_name in _ONE_SIDED.items():
        setattr(KerasTensor, f"__{dunder}__", _operator(op_name))


_install_operators()


class Node:
    """One call of a layer on symbolic inputs: its arguments and its output KerasTensors.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.Layer()
    >>> y = layer(KerasTensor((None, 2)))
    >>> node = layer._inbound_nodes[0]
    >>> node.is_input, node.outputs[0] is y
    (False, True)
    """

    def __init__(self, layer: Any, call_args: tuple = (), call_kwargs=None, outputs=None):
        self.operation = layer
        self.call_args = tuple(call_args)
        self.call_kwargs = dict(call_kwargs or {})
        self.outputs = flatten(outputs) if outputs is not None else []
        self.input_tensors = [
            t for t in flatten((list(self.call_args), self.call_kwargs)) if is_keras_tensor(t)
        ]
        self.parent_nodes = []
        for tensor in self.input_tensors:
            history = tensor._keras_history
            if history is not None:
                parent = history.operation._inbound_nodes[history.node_index]
                if all(parent is not p for p in self.parent_nodes):
                    self.parent_nodes.append(parent)
                history.operation._outbound_nodes.append(self)
        node_index = len(layer._inbound_nodes)
        layer._inbound_nodes.append(self)
        for index, tensor in enumerate(self.outputs):
            if is_keras_tensor(tensor):
                tensor._keras_history = KerasHistory(layer, node_index, index)

    @property
    def layer(self) -> Any:
        """The layer that was called."""
        return self.operation

    @property
    def is_input(self) -> bool:
        """True for a node with no symbolic inputs (an `Input`'s own node)."""
        return not self.input_tensors

    @property
    def output_tensors(self) -> list:
        return self.outputs

    def __repr__(self) -> str:
        return f"<Node operation={self.operation.name}, id={id(self)}>"


def is_keras_tensor(value: Any) -> bool:
    """Whether `value` is a KerasTensor.

    Example:
    >>> is_keras_tensor(KerasTensor((None, 2))), is_keras_tensor(1.0)
    (True, False)
    """
    return isinstance(value, KerasTensor)


def any_symbolic(args: tuple, kwargs: dict) -> bool:
    """Whether any (nested) argument is a KerasTensor.

    Example:
    >>> any_symbolic(([1.0, KerasTensor((2,))],), {})
    True
    """
    return any(is_keras_tensor(leaf) for leaf in flatten((list(args), kwargs)))


def symbolic_call(layer: Any, args: tuple, kwargs: dict) -> Any:
    """`layer(*args, **kwargs)` on KerasTensors: build, infer the outputs, record a Node.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.Layer()
    >>> symbolic_call(layer, (KerasTensor((None, 4)),), {}).shape, len(layer._inbound_nodes)
    ((None, 4), 1)
    """
    for arg in flatten(list(args)):
        if arg is not None and not is_keras_tensor(arg) and not isinstance(arg, torch.Tensor):
            raise ValueError(
                f"Layer '{layer.name}': only input tensors may be passed as positional "
                "arguments. The following argument value should be passed as a keyword "
                f"argument: {arg} (of type {type(arg)})"
            )
    if layer.input_spec is not None and args:
        from .input_spec import assert_input_compatibility

        assert_input_compatibility(layer.input_spec, args[0], layer.name)
    if not layer.built:
        layer._maybe_build(args, kwargs)
    outputs = layer.compute_output_spec(*args, **kwargs)
    # As Keras, building the graph already warns that a layer without masking drops a mask.
    first_masks = [getattr(t, "_keras_mask", None) for t in flatten(list(args[:1]))]
    if not layer.supports_masking and any(m is not None for m in first_masks):
        layer._warn_mask_dropped()
    Node(layer, args, kwargs, outputs)
    return outputs


def compute_output_spec(layer: Any, *args: Any, from_shapes: bool = False, **kwargs: Any) -> Any:
    """Output KerasTensors of `layer` for KerasTensor inputs (or for shapes, `from_shapes`).

    Example:
    >>> import tritonlayers as keras
    >>> compute_output_spec(keras.Layer(), (None, 5), from_shapes=True).shape
    (None, 5)
    """
    if from_shapes:
        args = tuple(_shapes_to_keras_tensors(a, layer.compute_dtype) for a in args)
        kwargs = {k: _shapes_to_keras_tensors(v, layer.compute_dtype) for k, v in kwargs.items()}
    from .layer import Layer

    if type(layer).compute_output_shape is not Layer.compute_output_shape:
        outputs = _spec_from_compute_output_shape(layer, args, kwargs)
        _set_symbolic_output_mask(layer, args, kwargs, outputs)
        return outputs
    outputs = _trace_call(layer, args, kwargs)
    if layer._call_spec.compute_mask_default:
        _set_symbolic_output_mask(layer, args, kwargs, outputs)
    return outputs


def _spec_from_compute_output_shape(layer: Any, args: tuple, kwargs: dict) -> Any:
    names = layer._call_spec.arg_names
    shapes = {f"{n}_shape": _shape_tree(a) for n, a in zip(names, args)}
    shapes.update({f"{k}_shape": _shape_tree(v) for k, v in kwargs.items() if _has_tensor(v)})
    params = _param_names(type(layer).compute_output_shape)
    if len(params) <= 1 or any(p.startswith("*") for p in params):
        shape = layer.compute_output_shape(*[_shape_tree(a) for a in args])
    else:
        shape = layer.compute_output_shape(**{p: shapes[p] for p in params if p in shapes})
    if isinstance(shape, (list, tuple)) and all(_is_dim(d) for d in shape):
        return KerasTensor(tuple(shape), dtype=layer.compute_dtype)
    if not isinstance(shape, (list, tuple, dict)):
        raise ValueError(
            f"Method `compute_output_shape()` of layer {type(layer).__name__} is returning a "
            f"type that cannot be interpreted as a shape. It should return a shape tuple. "
            f"Received: {shape}"
        )
    return _shapes_to_keras_tensors(shape, layer.compute_dtype)


def _set_symbolic_output_mask(layer: Any, args: tuple, kwargs: dict, outputs: Any) -> None:
    first = args[0] if args else None
    mask = (
        kwargs.get("mask")
        if kwargs.get("mask") is not None
        else getattr(first, "_keras_mask", None)
    )
    if not layer.supports_masking:
        return
    if layer._call_spec.compute_mask_default:
        if mask is not None:
            for output in flatten(outputs):
                if is_keras_tensor(output):
                    output._keras_mask = mask
        return
    if mask is None and isinstance(first, (list, tuple)):  # merge layers: one mask per input
        masks = [getattr(t, "_keras_mask", None) for t in first]
        mask = None if all(m is None for m in masks) else masks
    # An overridden `compute_mask` may make a mask from the inputs alone (`Embedding`,
    # `Masking`), so it runs even when the inputs carry none, as in Keras.
    traced = _trace(layer, layer.compute_mask, (first, mask), {})
    for output, mask_spec in zip(flatten(outputs), flatten(traced)):
        if is_keras_tensor(output) and is_keras_tensor(mask_spec):
            output._keras_mask = mask_spec


def _trace_call(layer: Any, args: tuple, kwargs: dict) -> Any:
    """Run `layer.__call__` on fake tensors (twice) and describe what it returns."""
    return _trace(layer, layer, args, kwargs)


def _trace(layer: Any, fn: Any, fn_args: tuple, fn_kwargs: dict):
    """Run `fn` on fake stand-ins of the KerasTensors in (fn_args, fn_kwargs)."""
    saved_losses = [(sub, list(sub._losses)) for sub in layer._flatten_layers()]
    saved_tracing, STATE.tracing = STATE.tracing, True
    runs = []
    try:
        for size in _STAND_IN_SIZES:
            runs.append(_run_on_stand_ins(fn, fn_args, fn_kwargs, size))
    except Exception as error:
        # Keras's wording, raised as the type `call()` raised (one that takes no message
        # becomes a RuntimeError).
        kind = type(layer).__name__
        message = (
            f"Could not automatically infer the output shape / dtype of '{layer.name}' (of "
            f"type {kind}). Either the `{kind}.call()` method is incorrect, or you need to "
            f"implement the `{kind}.compute_output_spec() / compute_output_shape()` method. "
            f"Error encountered:\n\n{error}"
        )
        try:
            failure = type(error)(message)
        except TypeError:
            failure = RuntimeError(message)
        raise failure.with_traceback(error.__traceback__) from None
    finally:
        STATE.tracing = saved_tracing
        for sub, losses in saved_losses:
            sub._losses[:] = losses
    return _merge_runs(runs[0], runs[1])


def _run_on_stand_ins(fn: Any, fn_args: tuple, fn_kwargs: dict, size: int) -> Any:
    """`fn` on stand-ins of the KerasTensors in its arguments (`size` for None dimensions).

    Fake tensors first (no math). A `call` that reads a computed value back into Python
    (`ops.tile(mask, [batch_size, 1, 1])` with `batch_size` from `ops.shape`) cannot run on
    them; it then runs on real tensors of ones, with copies of the variables so that
    nothing it writes sticks, as Keras falls back from its meta-device trace.
    """
    fake_mode = FakeTensorMode(allow_non_fake_inputs=True)
    try:
        with fake_mode, _VariableStandIns(fake_mode.from_tensor), torch.no_grad():
            return fn(*_to_fake(fn_args, size), **_to_fake(fn_kwargs, size))
    except Exception:
        with _VariableStandIns(torch.clone), torch.no_grad():
            return fn(*_to_ones(fn_args, size), **_to_ones(fn_kwargs, size))


class _VariableStandIns(TorchFunctionMode):
    """Hands every torch op a stand-in (`make(variable.detach())`) for each Variable.

    So tracing reads no real weights and writes none (`assign_add` lands on the stand-in),
    and it works on torch versions whose FakeTensorMode refuses Parameter subclasses.
    """

    def __init__(self, make: Any):
        super().__init__()
        self._make = make
        self._fakes: dict = {}

    def __torch_function__(self, func, types, args=(), kwargs=None):
        args = map_structure(self._stand_in, args)
        kwargs = map_structure(self._stand_in, kwargs or {})
        return func(*args, **kwargs)

    def _stand_in(self, value: Any) -> Any:
        if not isinstance(value, Variable):
            return value
        entry = self._fakes.get(id(value))
        if entry is None:
            with unset_fake_temporarily():
                plain = value.detach()
            entry = self._fakes[id(value)] = (value, self._make(plain))
        return entry[1]


def _to_fake(value: Any, size: int, make: Any = torch.empty) -> Any:
    def convert(leaf: Any) -> Any:
        if not is_keras_tensor(leaf):
            return leaf
        shape = tuple(size if d is None else d for d in leaf.shape)
        fake = make(shape, dtype=to_torch_dtype(leaf.dtype), device=config.device())
        if leaf._keras_mask is not None:
            fake._keras_mask = convert(leaf._keras_mask)
        return fake

    return map_structure(convert, value)


def _to_ones(value: Any, size: int) -> Any:
    return _to_fake(value, size, torch.ones)


def _merge_runs(first: Any, second: Any) -> Any:
    """KerasTensors for two traced results: sizes that differ between them become None."""
    if isinstance(first, torch.Tensor):
        shape = tuple(a if a == b else None for a, b in zip(first.shape, second.shape))
        result = KerasTensor(shape, dtype=first.dtype)
        mask_a, mask_b = getattr(first, "_keras_mask", None), getattr(second, "_keras_mask", None)
        if isinstance(mask_a, torch.Tensor) and isinstance(mask_b, torch.Tensor):
            result._keras_mask = _merge_runs(mask_a, mask_b)
        return result
    if isinstance(first, (list, tuple)):
        merged = [_merge_runs(a, b) for a, b in zip(first, second)]
        return merged if isinstance(first, list) else tuple(merged)
    if isinstance(first, dict):
        return {key: _merge_runs(first[key], second[key]) for key in first}
    return first


def _shapes_to_keras_tensors(value: Any, dtype: str) -> Any:
    if isinstance(value, (list, tuple, torch.Size)) and all(_is_dim(d) for d in value):
        return KerasTensor(tuple(value), dtype=dtype)
    if isinstance(value, (list, tuple)):
        converted = [_shapes_to_keras_tensors(v, dtype) for v in value]
        return converted if isinstance(value, list) else tuple(converted)
    if isinstance(value, dict):
        return {k: _shapes_to_keras_tensors(v, dtype) for k, v in value.items()}
    return value


def _shape_tree(value: Any) -> Any:
    return map_structure(lambda t: tuple(t.shape) if hasattr(t, "shape") else t, value)


def _has_tensor(value: Any) -> bool:
    return any(hasattr(leaf, "shape") for leaf in flatten(value))


def _is_dim(value: Any) -> bool:
    return value is None or (isinstance(value, int) and not isinstance(value, bool))


def _param_names(fn: Any) -> "list[str]":
    import inspect

    params = list(inspect.signature(fn).parameters.values())[1:]
    return [("*" if p.kind in (p.VAR_POSITIONAL, p.VAR_KEYWORD) else "") + p.name for p in params]


def _standardize_shape(shape: Any) -> tuple:
    if isinstance(shape, int):
        shape = (shape,)
    try:
        dims = tuple(None if d is None else int(d) for d in shape)
    except (TypeError, ValueError):
        dims = None
    if dims is None or any(d is not None and d < 0 for d in dims):
        raise ValueError(
            f"Cannot convert '{shape}' to a shape. A shape is a tuple of non-negative ints or "
            "None, e.g. (None, 3)."
        )
    return dims
