"""Variable: a torch Parameter with the Keras 3 variable API.

A Variable is a real `torch.nn.Parameter`, so it goes straight into torch math, torch
optimizers, `state_dict()` and `Module.to()`. On top it carries Keras's `name`, `path`,
`trainable`, `assign*`, `numpy()`, `value`, and the `regularizer` / `constraint` that
`Layer.add_weight` attached (the optimizer applies `constraint` after each update).

`dtype` is the torch dtype (torch code and `torch.compile` read it); its Keras name is
`dtype_policies.standardize_dtype(variable.dtype)`.

Inside the `call` of a mixed-precision layer, a weight read as a layer attribute
(`self.kernel`) is already cast to the compute dtype (a plain tensor); a variable created
non-trainable stays the Variable (so `self.total.assign_add(...)` works) and `.value` gives
its compute-dtype view.

Example:
>>> import tritonlayers as keras
>>> v = keras.Variable(initializer="ones", shape=(2,), name="total")
>>> v.assign_add([1.0, 2.0]).numpy().tolist()
[2.0, 3.0]
"""

import contextlib
import copy
import math
import threading
from typing import Any

import numpy as np
import torch
from torch._subclasses.fake_tensor import unset_fake_temporarily

from .. import config
from ..dtype_policies import standardize_dtype, to_torch_dtype
from . import call_context
from .naming import unique_name


def _array_operand_method(tensor_method: Any, keras_op: "str | None") -> Any:
    """`variable <op> other` where a numpy array `other` is first made a tensor.

    `keras_op` names the `tritonlayers.ops` function used instead where Keras's result
    dtype is not torch's (`@` and `//` keep the variable's float dtype there).
    """

    def method(self: torch.Tensor, other: Any) -> Any:
        if isinstance(other, np.ndarray):
            if keras_op is not None:
                from .. import ops

                return getattr(ops, keras_op)(self, other)
            other = torch.as_tensor(other, device=self.device)
        return tensor_method(self, other)

    method.__name__ = tensor_method.__name__
    return method


def _reflected_array_operand_method(tensor_method: Any, ufunc: Any) -> Any:
    """`other <op> variable`: a numpy array `other` gives numpy's result, as in Keras."""

    def method(self: "Variable", other: Any) -> Any:
        if isinstance(other, np.ndarray):
            return ufunc(other, self.numpy())
        return tensor_method(self, other)

    method.__name__ = tensor_method.__name__
    return method


class Variable(torch.nn.Parameter):
    """A trainable (or not) tensor of state, owned by a layer or standing alone.

    Args:
        initializer: a value (tensor, array, number, nested list), or an initializer
            (name like "glorot_uniform", initializer object, or `f(shape, dtype)`).
        shape: the shape; required with an initializer, checked against a value.
        dtype: dtype name or torch dtype; None = `config.floatx()` for floats, else the
            value's own dtype.
        trainable: whether optimizers update it (`requires_grad` for float dtypes).
        autocast: whether a mixed-precision layer reads it in its compute dtype.
        name: the name; None gives "variable", "variable_1", ...
        regularizer, constraint: callables kept for `Layer.losses` and the optimizer.
        device: where it lives; None = `config.device()`.

    Example:
    >>> import tritonlayers as keras
    >>> w = keras.Variable(initializer="zeros", shape=(2, 3), name="kernel")
    >>> w.name, tuple(w.shape), w.trainable
    ('kernel', (2, 3), True)
    """

    def __new__(
        cls,
        initializer: Any,
        shape: "tuple[int, ...] | None" = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        name: "str | None" = None,
        *,
        regularizer: Any = None,
        constraint: Any = None,
        device: "str | torch.device | None" = None,
    ) -> "Variable":
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name!r}"
            )
        # Real storage even when a layer is built while its call is traced on fake tensors.
        with unset_fake_temporarily():
            value = _initial_value(initializer, shape, dtype, name)
            value = value.to(device=config.device() if device is None else device).detach()
            trainable = bool(trainable)
            self = torch.Tensor._make_subclass(cls, value, trainable and _differentiable(value))
        self._name = name if name is not None else unique_name("variable")
        parent_path = call_context.current_path()
        self._path = f"{parent_path}/{self._name}" if parent_path else self._name
        self._trainable = trainable
        self._autocast = bool(autocast)
        # Weights (trainable at creation) are read in the compute dtype as layer attributes
        # inside a mixed-precision `call`; state created non-trainable (counters, moving
        # statistics) stays a Variable there so that `assign*` works, and `.value` casts it.
        self._cast_on_read = self._autocast and trainable
        self.regularizer = regularizer
        self.constraint = constraint
        return self

    def __init__(self, *args, **kwargs):
        """Everything is set in `__new__` (a Parameter is created there)."""

    @property
    def name(self) -> str:
        """The variable's name, e.g. "kernel" or "variable_1"."""
        return self._name

    @property
    def path(self) -> str:
        """The owner layers' path and the name, e.g. "mlp_block/linear/variable_1"."""
        return self._path

    @property
    def trainable(self) -> bool:
        """Whether optimizers update it; setting it sets `requires_grad` for float dtypes."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        self._trainable = bool(value)
        if _differentiable(self):
            self.requires_grad_(self._trainable)

    @property
    def regularizer(self) -> Any:
        """The penalty `Layer.losses` adds for this variable (None: no penalty)."""
        return self._regularizer

    @regularizer.setter
    def regularizer(self, value: Any) -> None:
        if value is not None:
            _regularized[0] += 1
        self._regularizer = value

    @property
    def autocast(self) -> bool:
        """Whether a mixed-precision layer reads this variable in its compute dtype."""
        return self._autocast

    @property
    def value(self) -> torch.Tensor:
        """The tensor to compute with: cast to the compute dtype inside a mixed-precision call."""
        dtype = call_context.STATE.autocast_dtype
        if dtype is None or not self._autocast or self.dtype == dtype:
            return self
        if self.is_floating_point():
            return self.to(dtype)
        return self

    def numpy(self) -> np.ndarray:
        """A numpy copy of the current value (bfloat16 comes out as float32)."""
        value = self.detach().cpu()
        if value.dtype == torch.bfloat16:
            value = value.float()
        # On the CPU, detach() and cpu() keep the variable's storage: copy, as Keras's
        # np.array(variable) does, so a snapshot (get_weights, EarlyStopping) stays put.
        return value.numpy().copy() if value.data_ptr() == self.data_ptr() else value.numpy()

    def assign(self, value: Any) -> "Variable":
        """Overwrite the value in place (no gradient); the shape must match exactly."""
        value = self._as_tensor(value)
        if value.shape != self.shape:
            raise ValueError(self._shape_error("assign", value.shape))
        with torch.no_grad():
            self.copy_(value)
        return self

    def assign_add(self, delta: Any) -> "Variable":
        """Add `delta` in place (no gradient); it must broadcast to the variable's shape."""
        delta = self._as_tensor(delta)
        self._check_broadcast("assign_add", delta.shape)
        with torch.no_grad():
            self.add_(delta)
        return self

    def assign_sub(self, delta: Any) -> "Variable":
        """Subtract `delta` in place (no gradient); it must broadcast to the variable's shape."""
        delta = self._as_tensor(delta)
        self._check_broadcast("assign_sub", delta.shape)
        with torch.no_grad():
            self.sub_(delta)
        return self

    def _as_tensor(self, value: Any) -> torch.Tensor:
        if isinstance(value, torch.Tensor):
            return value.detach().to(device=self.device, dtype=self.dtype)
        return torch.as_tensor(np.asarray(value), device=self.device).to(self.dtype)

    # Arithmetic with a numpy array: as in Keras, `variable * array` is a tensor that keeps
    # the gradient path (torch alone would detour through numpy and drop it), and
    # `array * variable` is the numpy result of the array and the variable's value.
    for _op, _ufunc, _keras_op in (
        ("add", np.add, None),
        ("sub", np.subtract, None),
        ("mul", np.multiply, None),
        ("truediv", np.true_divide, None),
        ("floordiv", np.floor_divide, "floor_divide"),
        ("mod", np.mod, None),
        ("pow", np.power, None),
        ("matmul", np.matmul, "matmul"),
    ):
        locals()[f"__{_op}__"] = _array_operand_method(
            getattr(torch.Tensor, f"__{_op}__"), _keras_op
        )
        locals()[f"__r{_op}__"] = _reflected_array_operand_method(
            getattr(torch.Tensor, f"__r{_op}__"), _ufunc
        )
    del _op, _ufunc, _keras_op

    def _check_broadcast(self, method: str, shape: torch.Size) -> None:
        try:
            broadcast = torch.broadcast_shapes(self.shape, shape)
        except RuntimeError:
            broadcast = None
        if broadcast != self.shape:
            raise ValueError(self._shape_error(method, shape))

    def _shape_error(self, method: str, shape: torch.Size) -> str:
        return (
            "The shape of the target variable and the shape of the target value in "
            f"`variable.{method}(value)` must match. variable.shape={tuple(self.shape)}, "
            f"Received: value.shape={tuple(shape)}. Target variable: {self!r}"
        )

    def __repr__(self) -> str:
        value = "<no data on meta>" if self.is_meta else self.numpy()
        return (
            f"<Variable path={self._path}, shape={tuple(self.shape)}, "
            f"dtype={standardize_dtype(self.dtype)}, value={value}>"
        )

    def __deepcopy__(self, memo: dict) -> "Variable":
        if id(self) in memo:
            return memo[id(self)]
        data = self.detach().clone(memory_format=torch.preserve_format)
        result = torch.Tensor._make_subclass(type(self), data, self.requires_grad)
        memo[id(self)] = result
        result.__dict__.update(copy.deepcopy(self.__dict__, memo))
        return result

    def __reduce_ex__(self, protocol: int):
        return (_rebuild_variable, (type(self), self.data, self.requires_grad, self.__dict__))


def _rebuild_variable(cls: type, data: torch.Tensor, requires_grad: bool, state: dict):
    """Unpickle a Variable (pickle and `torch.save` call this)."""
    variable = torch.Tensor._make_subclass(cls, data, requires_grad)
    variable.__dict__.update(state)
    if state.get("_regularizer") is not None:
        _regularized[0] += 1
    return variable


# How many times a variable was given a regularizer in this process. While it is 0,
# `Layer.losses` skips scanning the weights for penalties (a per-step cost in `fit`).
_regularized = [0]


def any_regularized() -> bool:
    """Whether any variable was ever given a regularizer (cheap; `Layer.losses` asks)."""
    return _regularized[0] > 0


class _LoadingBudget(threading.local):
    remaining: "int | None" = None


_loading = _LoadingBudget()


@contextlib.contextmanager
def variables_for_loading(max_bytes: int):
    """Create Variables that a loader overwrites: uninitialized, `max_bytes` at most in all.

    Inside the block, a Variable made from an initializer skips the initializer (its values
    are arbitrary until assigned) and counts against `max_bytes`; going over raises
    ValueError before anything is allocated. `saving.load_model` rebuilds a model inside
    one sized by the file's weights, then assigns every variable from the file (or discards
    the model): loading does no wasted initialization, and a config cannot make the loader
    allocate more memory than its file holds.

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.layers.variables import variables_for_loading
    >>> try:
    ...     with variables_for_loading(16):
    ...         keras.Variable(initializer="zeros", shape=(100,))
    ... except ValueError as error:
    ...     print(str(error)[:55])
    Variable 'variable' of shape (100,) needs 400 bytes; on
    """
    previous = _loading.remaining
    _loading.remaining = max_bytes
    try:
        yield
    finally:
        _loading.remaining = previous


def _uninitialized_for_loading(
    shape: "tuple[int, ...]", dtype: str, name: "str | None"
) -> "torch.Tensor | None":
    """Inside `variables_for_loading`: an empty tensor charged to the budget; else None."""
    remaining = _loading.remaining
    if remaining is None:
        return None
    size = math.prod(shape) * to_torch_dtype(dtype).itemsize
    if size > remaining:
        raise ValueError(
            f"Variable {name or 'variable'!r} of shape {shape} needs {size} bytes; only "
            f"{remaining} of the bytes allowed for new variables are left (a model being "
            "loaded may not be larger than the weights its file holds)."
        )
    _loading.remaining = remaining - size
    return torch.empty(shape, dtype=to_torch_dtype(dtype))


def _differentiable(tensor: torch.Tensor) -> bool:
    return tensor.is_floating_point() or tensor.is_complex()


def _initial_value(initializer: Any, shape: Any, dtype: Any, name: "str | None") -> torch.Tensor:
    """The first value: the initializer called on (shape, dtype), or the given value cast."""
    if isinstance(initializer, str) or (
        callable(initializer) and not isinstance(initializer, (torch.Tensor, np.ndarray))
    ):
        if shape is None:
            raise ValueError(
                "When creating a Variable from an initializer, the `shape` argument should be "
                f"specified. Received: initializer={initializer} and shape={shape}"
            )
        from .. import initializers

        shape = _standardize_shape(shape, name)
        dtype = standardize_dtype(dtype)
        value = _uninitialized_for_loading(shape, dtype, name)
        if value is None:
            value = initializers.get(initializer)(shape, dtype=dtype)
        value = torch.as_tensor(value)
        if tuple(value.shape) != shape:
            raise ValueError(
                f"Initializer {initializer} for variable {name!r} returned shape "
                f"{tuple(value.shape)}; expected {shape}."
            )
        return value.to(to_torch_dtype(dtype))
    value = initializer.detach() if isinstance(initializer, torch.Tensor) else initializer
    value = torch.as_tensor(np.asarray(value) if not isinstance(value, torch.Tensor) else value)
    if dtype is None:
        dtype = standardize_dtype(None) if value.is_floating_point() else value.dtype
    if shape is not None and tuple(value.shape) != _standardize_shape(shape, name):
        raise ValueError(
            f"Initial value for variable {name!r} has shape {tuple(value.shape)}, which does "
            f"not match the `shape` argument {tuple(shape)}."
        )
    return value.to(to_torch_dtype(dtype))


def _standardize_shape(shape: Any, name: "str | None") -> "tuple[int, ...]":
    dims = (shape,) if isinstance(shape, int) else shape
    try:
        dims = tuple(int(dim) for dim in dims)
    except (TypeError, ValueError):
        dims = None
    if dims is None or any(dim < 0 for dim in dims):
        raise ValueError(
            f"Variable {name!r}: shapes must be tuples of non-negative ints, e.g. (3, 4). "
            f"Received: shape={shape}"
        )
    return dims
