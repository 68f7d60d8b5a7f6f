"""Layer: Keras 3's unit of state plus computation, as a `torch.nn.Module`.

A layer creates its weights with `add_weight` (in `__init__` or, lazily, in `build`, which
`__call__` runs once with the first input's shape) and computes in `call`. Layers, Variables
and lists/dicts of them assigned as attributes are tracked, so `weights`, `losses`,
`trainable` and `state_dict()` see the whole tree.

Inputs follow the layer's weights: a tensor (or array) on another device is moved to the
device of the layer's first weight, as Keras moves inputs to its device.

Under a mixed-precision policy, weights read as attributes inside `call` (`self.kernel`)
come already cast to the compute dtype; a Variable reached another way (inside a list, or
of another object) gives that view through `.value`.

Keras's `training` argument is independent of torch's `train()` / `eval()` mode: it comes
from the call (explicit, else the enclosing call's, else `call`'s default), as in Keras.

`__call__` is a short list of named steps (see DESIGN.md): convert the inputs, check the
input spec, build once, resolve `training`, fill `mask`, clear the losses when outermost,
run `call` under the layer's dtype policy, set the output mask. Each step is a method below.

Example:
>>> import tritonlayers as keras
>>> class Linear(keras.Layer):
...     def __init__(self, units=32, **kwargs):
...         super().__init__(**kwargs)
...         self.units = units
...     def build(self, input_shape):
...         self.w = self.add_weight(shape=(input_shape[-1], self.units))
...         self.b = self.add_weight(shape=(self.units,), initializer="zeros")
...     def call(self, inputs):
...         return keras.ops.matmul(inputs, self.w) + self.b
>>> layer = Linear(4)
>>> tuple(layer(keras.ops.ones((2, 3))).shape), len(layer.weights)
((2, 4), 2)
"""

import functools
import warnings
from typing import Any

import numpy as np
import torch

from .. import dtype_policies
from . import constructor_args, symbolic, tracking
from .call_context import STATE, name_scope
from .call_errors import with_call_info
from .call_spec import call_spec_of
from .input_spec import InputSpec, assert_input_compatibility
from .naming import to_snake_case, unique_name
from .nest import flatten, map_structure
from .variables import Variable, _rebuild_variable, any_regularized


class Layer(tracking.Tracker, torch.nn.Module):
    """The base class of all layers: weights (`add_weight`), `build`, `call`, config.

    Args:
        activity_regularizer: optional regularizer applied to the outputs (added to `losses`).
        trainable: whether the layer's weights are updated in training.
        dtype: dtype policy ("float32", "mixed_float16", "mixed_bfloat16", ...); None
            takes `config.dtype_policy()`.
        autocast: whether to cast float inputs and variables to the compute dtype.
        name: the name; None gives the snake_case class name made unique ("linear_1").

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.Layer(name="block", dtype="mixed_bfloat16")
    >>> layer.name, layer.compute_dtype, layer.variable_dtype
    ('block', 'bfloat16', 'float32')
    """

    _is_tritonlayers_layer = True
    input_spec: "InputSpec | None" = None
    activity_regularizer: Any = None
    # Set from the dtype policy in `__init__`; the defaults keep a layer whose subclass forgot
    # `super().__init__()` reaching the check that says so.
    _input_dtype: "torch.dtype | None" = None
    _autocast_dtype: "torch.dtype | None" = None
    _mixed = False
    _device_anchor: "Variable | None" = None
    # Stateless layers that Keras reports built as soon as they are constructed.
    _built_at_init = False

    def __new__(cls, *args: Any, **kwargs: Any) -> "Layer":
        self = super().__new__(cls)
        # Set up the torch Module here, so that sublayers and Variables can be assigned
        # even before the subclass calls `super().__init__()`.
        torch.nn.Module.__init__(self)
        spec = call_spec_of(cls)
        initial_state = {
            "_call_spec": spec,
            "_initialized": False,
            "built": False,
            "_locked": False,
            "_device_anchor": None,
            "_trainable": True,
            "_layers": [],
            "_trainable_variables": [],
            "_non_trainable_variables": [],
            "_state_owners": [],
            "_auto_keys": set(),
            "_losses": [],
            "_inbound_nodes": [],
            "_outbound_nodes": [],
            "_path": None,
            "_build_device": None,
            "_build_shapes_dict": None,
            "_flat_cache": (-1, ()),
            "_mask_warned": False,
            "_auto_config": constructor_args.auto_config(spec, args, kwargs),
            "_build_depth": 0,
        }
        self.__dict__.update(initial_state)
        return self

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        if "build" in cls.__dict__:
            cls.build = _build_then_lock(cls.__dict__["build"])

    def __init__(
        self,
        *,
        activity_regularizer: Any = None,
        trainable: bool = True,
        dtype: Any = None,
        autocast: bool = True,
        name: "str | None" = None,
        **kwargs: Any,
    ):
        self._input_shape_arg = constructor_args.pop_input_shape_hint(kwargs)
        self._batch_size_arg = kwargs.pop("batch_size", None)
        if kwargs:
            raise ValueError(
                f"Unrecognized keyword arguments passed to {type(self).__name__}: {kwargs}"
            )
        if name is not None and (not isinstance(name, str) or "/" in name):
            raise ValueError(
                "Argument `name` must be a string and cannot contain character `/`. "
                f"Received: name={name} (of type {type(name)})"
            )
        self.name = name if name else unique_name(to_snake_case(type(self).__name__))
        self.autocast = bool(autocast)
        try:
            self.dtype_policy = dtype
        except ValueError as error:
            raise ValueError(f"Layer '{self.name}' ({type(self).__name__}): {error}") from error
        self._trainable = bool(trainable)
        self.activity_regularizer = _lookup("regularizers", activity_regularizer)
        self._initialized = True
        if self._built_at_init and type(self).build is Layer.build:
            # Keras marks its stateless layers built at construction, unless a subclass
            # brings its own `build`.
            self.built = True

    # ------------------------------------------------------------------ call path

    def __call__(self, *args: Any, **kwargs: Any) -> Any:
        if not self._inputs_ready(args, kwargs):
            if symbolic.any_symbolic(args, kwargs):
                # An outermost symbolic call starts fresh too (Keras 3.15).
                self._clear_losses_if_outermost(STATE.entry is None)
                return symbolic.symbolic_call(self, args, kwargs)
            args, kwargs = self._convert_inputs(args, kwargs)
        first = args[0] if args else None
        if self.input_spec is not None:
            assert_input_compatibility(self.input_spec, first, self.name)
        if not self.built:
            args, kwargs = self._maybe_build(args, kwargs)
            first = args[0] if args else None
        saved_entry, saved_training = STATE.entry, STATE.training
        saved_path, saved_autocast = STATE.path, STATE.autocast_dtype
        try:
            outermost = saved_entry is None
            if outermost:
                STATE.entry = self
            self._resolve_training(kwargs)
            previous_mask = self._fill_mask(args, kwargs, first)
            self._clear_losses_if_outermost(outermost)
            STATE.path = self._path or self._ensure_path()
            STATE.autocast_dtype = self._resolve_autocast(saved_autocast)
            try:
                outputs = self.call(*args, **kwargs)
            except Exception as error:
                annotated = with_call_info(self, error, args, kwargs)
                if annotated is error:
                    raise
                raise annotated from None
            if self.activity_regularizer is not None:
                self._add_activity_losses(outputs)
            self._set_output_mask(first, outputs, previous_mask)
        finally:
            STATE.entry, STATE.training = saved_entry, saved_training
            STATE.path, STATE.autocast_dtype = saved_path, saved_autocast
        return outputs

    def _inputs_ready(self, args: tuple, kwargs: dict) -> bool:
        """The common cases that need no conversion: one tensor, or one flat tuple/list of
        tensors (the guide's `Sampling()((z_mean, z_log_var))`), already in the right dtype."""
        if len(args) != 1 or (kwargs and not _only_training_flag(kwargs)):
            return False
        x = args[0]
        if isinstance(x, torch.Tensor):
            return self._tensor_ready(x)
        if type(x) in (tuple, list) and x:
            return all(isinstance(t, torch.Tensor) and self._tensor_ready(t) for t in x)
        return False

    def _tensor_ready(self, x: torch.Tensor) -> bool:
        anchor = self._device_anchor
        if anchor is not None and x.device != anchor.device:
            return False
        target = self._input_dtype
        return target is None or x.dtype == target or not x.is_floating_point()

    def _convert_inputs(self, args: tuple, kwargs: dict) -> "tuple[tuple, dict]":
        """Arrays become tensors; float inputs take the compute dtype (float64 -> float32)."""
        args = map_structure(self._convert_input, args)
        kwargs = {k: map_structure(self._convert_input, v) for k, v in kwargs.items()}
        for arg in flatten(args):
            if arg is not None and not isinstance(arg, torch.Tensor) and not _is_text(arg):
                raise ValueError(
                    f"Layer '{self.name}': only input tensors may be passed as positional "
                    "arguments. The following argument value should be passed as a keyword "
                    f"argument: {arg} (of type {type(arg)})"
                )
        return args, kwargs

    def _convert_input(self, x: Any) -> Any:
        anchor = self._device_anchor
        device = anchor.device if anchor is not None else None
        if isinstance(x, torch.Tensor):
            tensor = x
        elif _is_text(x):
            return x  # strings stay NumPy: a text layer (`StringLookup`, ...) reads them
        elif isinstance(x, (np.ndarray, np.generic)):
            tensor = torch.as_tensor(x, device=device or _default_device())
        else:
            return x
        dtype = tensor.dtype
        target = self._input_dtype
        if tensor.is_floating_point() and target is not None:
            dtype = target
        elif dtype == torch.float64:
            dtype = torch.float32
        if dtype == tensor.dtype and (device is None or tensor.device == device):
            return tensor
        mask = getattr(x, "_keras_mask", None)
        tensor = tensor.to(device=device, dtype=dtype)
        if mask is not None:
            tensor._keras_mask = mask.to(device) if device is not None else mask
        return tensor

    def _maybe_build(self, args: tuple, kwargs: dict) -> "tuple[tuple, dict]":
        """Run `build` once, with the first input's shape or with `<arg>_shape` by name;
        return the inputs, moved to the new weights' device."""
        self._check_super_called()
        # Weights go to `config.device()`, unless the input already lives on another
        # accelerator (or "meta"): then they follow it.
        leaves = [t for t in flatten(args) if hasattr(t, "shape")]
        device = getattr(leaves[0], "device", None) if leaves else None
        self._build_device = device if device is not None and device.type != "cpu" else None
        shapes = self._input_shapes(args, kwargs)
        spec = self._call_spec
        if spec.build_default or len(spec.build_params) <= 1:
            self.build(next(iter(shapes.values()), None))
        else:
            self.build(**_shapes_for_build(self, shapes))
        if self.input_spec is not None and args:
            assert_input_compatibility(self.input_spec, args[0], self.name)
        if self._device_anchor is None or symbolic.any_symbolic(args, kwargs):
            return args, kwargs
        return self._convert_inputs(args, kwargs)

    def _input_shapes(self, args: tuple, kwargs: dict) -> dict:
        names = self._call_spec.arg_names
        shapes = {}
        for index, value in enumerate(args):
            name = names[index] if index < len(names) else f"arg_{index}"
            shapes[f"{name}_shape"] = _shape_of(value)
        for name, value in kwargs.items():
            if name not in ("training", "mask") and any(
                hasattr(leaf, "shape") for leaf in flatten(value)
            ):
                shapes[f"{name}_shape"] = _shape_of(value)
        return shapes

    def _resolve_training(self, kwargs: dict) -> "bool | None":
        """Explicit `training=` > the enclosing call's value > the default in `call`."""
        spec = self._call_spec
        training = kwargs.get("training")
        if training is None:
            training = STATE.training
            if training is None:
                training = spec.training_default
        STATE.training = training
        if spec.has_training:
            if training is not None:
                kwargs["training"] = training
        else:
            # Keras passes `training` only to a `call` that names it, not into `**kwargs`.
            kwargs.pop("training", None)
        return training

    def _fill_mask(self, args: tuple, kwargs: dict, first: Any) -> Any:
        """Pass the inputs' `_keras_mask` to `mask` / `<arg>_mask`; return the first input's."""
        spec = self._call_spec
        if spec.has_mask and kwargs.get("mask") is not None:
            return kwargs["mask"]
        previous_mask = _mask_of(first)
        if spec.has_mask and previous_mask is not None and len(args) == 1:
            kwargs["mask"] = previous_mask
        elif spec.mask_args:
            for name, value in zip(spec.arg_names, args):
                if name in spec.mask_args and kwargs.get(f"{name}_mask") is None:
                    kwargs[f"{name}_mask"] = _mask_of(value)
        return previous_mask

    def _clear_losses_if_outermost(self, outermost: bool) -> None:
        """The outermost call starts fresh: clear the losses of this layer and its sublayers."""
        if outermost:
            for layer in self._flat_layers():
                if layer._losses:
                    layer._losses.clear()

    def _resolve_autocast(self, outer_dtype: "torch.dtype | None") -> "torch.dtype | None":
        """The dtype variables are read in during `call` (None: as stored)."""
        if outer_dtype is None and not self._mixed:
            return None
        return self._autocast_dtype

    def _add_activity_losses(self, outputs: Any) -> None:
        for output in flatten(outputs):
            if isinstance(output, torch.Tensor):
                loss = self.activity_regularizer(output)
                if output.ndim > 0 and output.shape[0] > 0:
                    loss = loss / output.shape[0]
                self.add_loss(loss)

    def _set_output_mask(self, first: Any, outputs: Any, previous_mask: Any) -> None:
        """Attach `compute_mask(...)` to the outputs, or warn once that the mask is dropped."""
        if previous_mask is None and self._call_spec.compute_mask_default:
            return
        if self.supports_masking:
            masks = self.compute_mask(first, previous_mask)
            if masks is None:
                return
            flat_outputs = flatten(outputs)
            # Keras pairs the flat outputs with the flat masks: one output of a layer that
            # took a list of masked inputs keeps the first mask.
            flat_masks = flatten(masks)
            for output, mask in zip(flat_outputs, flat_masks):
                if (
                    mask is not None
                    and isinstance(output, torch.Tensor)
                    and getattr(output, "_keras_mask", None) is None
                ):
                    output._keras_mask = mask
        elif previous_mask is not None and not self._mask_warned:
            self._mask_warned = True
            self._warn_mask_dropped()

    def _warn_mask_dropped(self) -> None:
        """Keras's warning that a layer without masking drops a mask (given once when run
        eagerly, so that it does not repeat each batch)."""
        warnings.warn(
            f"Layer '{self.name}' (of type {type(self).__name__}) was passed an input with "
            "a mask attached to it. However, this layer does not support masking and will "
            "therefore destroy the mask information. Downstream layers will not see the "
            "mask.",
            stacklevel=4,
        )

    # ------------------------------------------------------------- overridables

    def build(self, input_shape: Any = None) -> None:
        """Create the layer's weights for inputs of `input_shape`; `__call__` runs it once."""
        self.built = True

    def call(self, *args: Any, **kwargs: Any) -> Any:
        """The forward computation. The base layer returns its (first) input unchanged."""
        return args[0] if args else None

    def forward(self, *args: Any, **kwargs: Any) -> Any:
        """torch's name for `call` (so torch utilities that call `forward` work)."""
        return self.call(*args, **kwargs)

    def compute_mask(self, inputs: Any, mask: Any = None) -> Any:
        """The mask of the outputs; by default the input mask passes through."""
        return mask

    def compute_output_shape(self, *args: Any, **kwargs: Any) -> Any:
        """Output shape(s) for input shape(s); by default `call` is traced on fake tensors."""
        specs = symbolic.compute_output_spec(self, *args, **kwargs, from_shapes=True)
        return map_structure(lambda t: t.shape, specs)

    def compute_output_spec(self, *args: Any, **kwargs: Any) -> Any:
        """Output KerasTensor(s) for KerasTensor input(s), without running real math."""
        return symbolic.compute_output_spec(self, *args, **kwargs)

    @property
    def supports_masking(self) -> bool:
        """Whether `compute_mask` output is attached to the outputs (on by overriding it)."""
        value = self.__dict__.get("_supports_masking")
        return not self._call_spec.compute_mask_default if value is None else value

    @supports_masking.setter
    def supports_masking(self, value: bool) -> None:
        self.__dict__["_supports_masking"] = bool(value)

    # ----------------------------------------------------------------- weights

    def add_weight(
        self,
        shape: Any = (),
        initializer: Any = None,
        dtype: Any = None,
        trainable: bool = True,
        autocast: bool = True,
        regularizer: Any = None,
        constraint: Any = None,
        aggregation: str = "none",
        overwrite_with_gradient: bool = False,
        name: "str | None" = None,
    ) -> Variable:
        """Create a weight Variable owned by this layer.

        The default initializer is "glorot_uniform" for float dtypes and "zeros" otherwise;
        the default dtype is the policy's variable dtype. `regularizer` penalties show in
        `losses`; `constraint` is applied by the optimizer after each update.

        Example:
        >>> import tritonlayers as keras
        >>> layer = keras.Layer(name="block")
        >>> w = layer.add_weight(shape=(2, 3), initializer="ones", name="kernel")
        >>> w.path, layer.weights[0] is w
        ('block/kernel', True)
        """
        self._check_super_called()
        self._check_can_add_state()
        shape = () if shape is None else shape
        try:
            dtype = dtype_policies.standardize_dtype(dtype or self.variable_dtype)
            if initializer is None:
                is_float = "float" in dtype or "complex" in dtype
                initializer = "glorot_uniform" if is_float else "zeros"
            with name_scope(self._ensure_path()):
                variable = Variable(
                    initializer,
                    shape=shape,
                    dtype=dtype,
                    trainable=trainable,
                    autocast=autocast,
                    name=name,
                    regularizer=_lookup("regularizers", regularizer),
                    constraint=_lookup("constraints", constraint),
                    device=self._build_device,
                )
        except ValueError as error:
            raise ValueError(f"Layer '{self.name}', add_weight(name={name!r}): {error}") from error
        variable.aggregation = aggregation
        variable.overwrite_with_gradient = overwrite_with_gradient
        self._track_variable(variable)
        return variable

    def add_variable(self, shape: Any = (), initializer: Any = None, **kwargs: Any) -> Variable:
        """Alias of `add_weight`."""
        return self.add_weight(shape, initializer, **kwargs)

    @property
    def variables(self) -> "list[Variable]":
        """All state: own variables, seed states, then sublayers' (deduplicated).

        As in Keras, the variables of metrics held as attributes are not among them, and
        so are not saved with the weights.

        Example:
        >>> import tritonlayers as keras
        >>> class Tracked(keras.Layer):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.seen = keras.metrics.Mean(name="seen")
        ...         self.dense = keras.layers.Dense(2)
        >>> layer = Tracked()
        >>> layer.dense.build((None, 3))
        >>> [v.name for v in layer.variables]
        ['kernel', 'bias']
        """
        from ..metrics.base import Metric

        found = _unique(
            self._trainable_variables + self._non_trainable_variables,
            *(owner.variables for owner in self._state_owners if not isinstance(owner, Metric)),
            *(layer.variables for layer in self._layers),
        )
        return found

    @property
    def trainable_variables(self) -> "list[Variable]":
        """The trainable variables (empty when the layer is frozen)."""
        return [v for v in self.variables if v.trainable] if self.trainable else []

    @property
    def non_trainable_variables(self) -> "list[Variable]":
        """The non-trainable variables, seed states included (all when frozen)."""
        return [v for v in self.variables if not v.trainable] if self.trainable else self.variables

    @property
    def metrics(self) -> list:
        """The metric objects held as attributes of this layer, then its sublayers' metrics.

        Example:
        >>> import tritonlayers as keras
        >>> class Tracked(keras.Layer):
        ...     def __init__(self):
        ...         super().__init__()
        ...         self.seen = keras.metrics.Mean(name="seen")
        >>> [metric.name for metric in Tracked().metrics]
        ['seen']
        """
        found = self._own_metrics()
        for layer in self._layers:
            found.extend(layer.metrics)
        return found

    def _own_metrics(self) -> list:
        from ..metrics.base import Metric

        return [owner for owner in self._state_owners if isinstance(owner, Metric)]

    @property
    def weights(self) -> "list[Variable]":
        """Own weights (trainable first, in creation order), then sublayers' weights."""
        return _unique(
            self._trainable_variables + self._non_trainable_variables,
            *(layer.weights for layer in self._layers),
        )

    @property
    def trainable_weights(self) -> "list[Variable]":
        """The weights an optimizer updates (empty when the layer is frozen)."""
        return [w for w in self.weights if w.trainable] if self.trainable else []

    @property
    def non_trainable_weights(self) -> "list[Variable]":
        """The weights an optimizer leaves alone (all of them when the layer is frozen)."""
        return [w for w in self.weights if not w.trainable] if self.trainable else self.weights

    def count_params(self) -> int:
        """The number of scalars in `weights`; the layer must be built."""
        if not self.built:
            raise ValueError(
                f"You tried to call `count_params` on layer '{self.name}', but the layer isn't "
                "built. You can build it manually via: `layer.build(input_shape)`."
            )
        return int(sum(w.numel() for w in self.weights))

    def get_weights(self) -> "list[np.ndarray]":
        """The weights' values as numpy arrays, in `weights` order."""
        return [w.numpy() for w in self.weights]

    def set_weights(self, weights: "list[Any]") -> None:
        """Assign values (arrays or tensors) to `weights`, in order, with shapes checked."""
        own = self.weights
        if len(weights) != len(own):
            raise ValueError(
                f"You called `set_weights(weights)` on layer '{self.name}' with a weight list "
                f"of length {len(weights)}, but the layer was expecting {len(own)} weights."
            )
        for variable, value in zip(own, weights):
            shape = tuple(np.shape(value))
            if tuple(variable.shape) != shape:
                raise ValueError(
                    f"Layer {self.name} weight shape {tuple(variable.shape)} is not compatible "
                    f"with provided weight shape {shape}."
                )
            variable.assign(value)

    @property
    def trainable(self) -> bool:
        """Whether the layer trains; setting it cascades to its weights and sublayers."""
        return self._trainable

    @trainable.setter
    def trainable(self, value: bool) -> None:
        value = bool(value)
        self._trainable = value
        for variable in self._trainable_variables:
            variable.trainable = value
        for layer in self._layers:
            layer.trainable = value

    # ------------------------------------------------------------------ losses

    def add_loss(self, loss: Any) -> None:
        """Record scalar loss tensor(s) from `call`; they show in `losses` until the next call."""
        values = flatten(loss)
        for value in values:
            if not isinstance(value, torch.Tensor):
                raise ValueError(
                    f"Layer '{self.name}': `add_loss()` can only be called from inside `build()` "
                    f"or `call()`, on a tensor input. Received invalid value: {value}"
                )
        self._losses.extend(values)

    @property
    def losses(self) -> "list[torch.Tensor]":
        """Losses from `add_loss` here and in sublayers, then weight-regularizer penalties."""
        found = list(self._losses)
        for layer in self._flat_layers()[1:]:
            found.extend(layer._losses)
        if not any_regularized():
            return found
        for variable in self.trainable_weights:
            if variable.regularizer is not None:
                found.append(variable.regularizer(variable))
        return found

    # ------------------------------------------------------------------ dtypes

    @property
    def dtype_policy(self) -> dtype_policies.DTypePolicy:
        """The DTypePolicy; settable with a name, a policy or None (the global policy)."""
        return self._dtype_policy

    @dtype_policy.setter
    def dtype_policy(self, value: Any) -> None:
        policy = dtype_policies.get(value)
        self.__dict__["_dtype_policy"] = policy
        compute = policy.torch_compute_dtype
        self.__dict__["_input_dtype"] = compute if compute.is_floating_point else None
        autocasting = self.autocast and compute.is_floating_point
        self.__dict__["_autocast_dtype"] = compute if autocasting else None
        self.__dict__["_mixed"] = policy.is_mixed

    @property
    def dtype(self) -> str:
        """The variable dtype name (Keras's `layer.dtype`)."""
        return self._dtype_policy.variable_dtype

    @property
    def compute_dtype(self) -> str:
        """The dtype `call` computes in."""
        return self._dtype_policy.compute_dtype

    @property
    def variable_dtype(self) -> str:
        """The dtype new weights are created in."""
        return self._dtype_policy.variable_dtype

    @property
    def input_dtype(self) -> str:
        """The dtype float inputs are cast to (the compute dtype)."""
        return self._dtype_policy.compute_dtype

    # ------------------------------------------------------------------- config

    def get_config(self) -> dict:
        """`name`, `trainable`, `dtype`, plus the plain constructor arguments when
        the subclass does not define `get_config` itself."""
        self._check_super_called()
        config = {"name": self.name}
        if type(self).get_config is Layer.get_config:
            if self._auto_config is None:
                raise TypeError(
                    f"Object {type(self).__name__} was created by passing non-serializable "
                    "argument values in `__init__()`, and therefore the object must override "
                    "`get_config()` in order to be serializable. Please implement "
                    "`get_config()`."
                )
            config.update(self._auto_config)
            params = self._call_spec.init_params
            kwargs_param = params.get("kwargs")
            has_kwargs = kwargs_param is not None and kwargs_param.kind == kwargs_param.VAR_KEYWORD
            if "name" not in params and not has_kwargs:
                del config["name"]
        config["trainable"] = self.trainable
        config["dtype"] = dtype_policies.serialize(self._dtype_policy)
        if self.activity_regularizer is not None:
            from .. import regularizers

            config["activity_regularizer"] = regularizers.serialize(self.activity_regularizer)
        return config

    @classmethod
    def from_config(cls, config: dict) -> "Layer":
        """`cls(**config)` (a serialized dtype policy is turned back into a policy)."""
        config = dict(config)
        if isinstance(config.get("dtype"), dict):
            config["dtype"] = dtype_policies.deserialize(config["dtype"])
        try:
            return cls(**config)
        except Exception as error:
            raise TypeError(
                f"Error when deserializing class '{cls.__name__}' using config={config}.\n\n"
                f"Exception encountered: {error}"
            ) from error

    def get_build_config(self) -> "dict | None":
        """The shape(s) `build` ran with, for `build_from_config` when loading."""
        shapes = self._build_shapes_dict
        if shapes is None:
            return None
        if len(shapes) == 1:
            return {"input_shape": next(iter(shapes.values()))}
        return {"shapes_dict": shapes}

    def build_from_config(self, config: "dict | None") -> None:
        """Create the weights from a `get_build_config()` dict.

        A layer without its own `build` (a subclassed model whose sublayers build when
        called) is built by calling it on symbolic inputs of those shapes, as in Keras 3.
        """
        if not config:
            return
        if self._call_spec.build_default:
            self._build_by_symbolic_call(config)
        elif "input_shape" in config:
            self.build(config["input_shape"])
        elif "shapes_dict" in config:
            self.build(**config["shapes_dict"])

    def save_own_variables(self, store: dict) -> None:
        """Put this layer's own variables (trainable, then non-trainable; not its
        sublayers') in `store` under "0", "1", ...

        Override it (and `load_own_variables`) to store extra arrays or to take control of
        the format: saving calls a layer's own override, puts its `store` entries in the
        weights file under the layer's path, and loading hands them back (as numpy arrays)
        to `load_own_variables`. Layers without an override are saved variable by variable.

        Example:
        >>> import tritonlayers as keras
        >>> layer = keras.layers.Dense(2)
        >>> layer.build((None, 3))
        >>> store = {}
        >>> layer.save_own_variables(store)
        >>> {key: tuple(value.shape) for key, value in store.items()}
        {'0': (3, 2), '1': (2,)}
        """
        for index, variable in enumerate(self._trainable_variables + self._non_trainable_variables):
            store[str(index)] = variable

    def load_own_variables(self, store: dict) -> None:
        """Assign this layer's own variables from a `store` that `save_own_variables` filled
        (numpy arrays under "0", "1", ...).

        Example:
        >>> import numpy as np
        >>> import tritonlayers as keras
        >>> layer = keras.layers.Dense(2)
        >>> layer.build((None, 1))
        >>> layer.load_own_variables({"0": np.ones((1, 2)), "1": np.zeros(2)})
        >>> layer.kernel.numpy().tolist()
        [[1.0, 1.0]]
        """
        own = self._check_load_own_variables(store)
        for index, variable in enumerate(own):
            variable.assign(store[str(index)])

    def _check_load_own_variables(self, store: dict) -> "list[Variable]":
        """This layer's own variables, after checking that `store` holds one entry each."""
        own = self._trainable_variables + self._non_trainable_variables
        if len(store.keys()) != len(own) and not own and not self.built:
            raise ValueError(
                f"Layer '{self.name}' was never built and thus it doesn't have any "
                f"variables. However the weights file lists {len(store.keys())} variables "
                "for this layer. Give it a `build()` that creates all its state (its "
                "sublayers' included), or a `build_from_config(config)` (with "
                "`get_build_config()`) that rebuilds it when loading."
            )
        if len(store.keys()) != len(own):
            raise ValueError(
                f"Layer '{self.name}' expected {len(own)} variables, but received "
                f"{len(store.keys())} variables during loading. Expected: "
                f"{[v.name for v in own]}"
            )
        return own

    def _build_by_symbolic_call(self, config: dict) -> None:
        def symbolic_inputs(shape: Any) -> Any:
            if isinstance(shape, (list, tuple)) and all(
                isinstance(s, (list, tuple)) for s in shape
            ):
                return [symbolic.KerasTensor(s) for s in shape]
            return symbolic.KerasTensor(shape)

        nodes_before = len(self._inbound_nodes)
        if "input_shape" in config:
            self(symbolic_inputs(config["input_shape"]))
        elif "shapes_dict" in config:
            self(
                **{
                    k.removesuffix("_shape"): symbolic_inputs(v)
                    for k, v in config["shapes_dict"].items()
                }
            )
        # Building is not a call of the layer in a graph: a functional model being loaded
        # replays its own calls, and its summary numbers them from 0 as Keras does.
        del self._inbound_nodes[nodes_before:]

    def __reduce_ex__(self, protocol: int) -> tuple:
        """Pickle and `copy.deepcopy` through the config and weights (`saving.pickling`)."""
        from ..saving.pickling import reduce_layer

        return reduce_layer(self, protocol)

    # --------------------------------------------------------------- functional

    @property
    def input(self) -> Any:
        """The input KerasTensor(s) of the layer's first symbolic call."""
        return self._functional_value("input", "input_tensors")

    @input.setter
    def input(self, value: Any) -> None:
        self.__dict__["_input"] = value

    @property
    def output(self) -> Any:
        """The output KerasTensor(s) of the layer's first symbolic call.

        A layer that makes its own symbolic tensor (InputLayer) sets it instead.
        """
        return self._functional_value("output", "outputs")

    @output.setter
    def output(self, value: Any) -> None:
        self.__dict__["_output"] = value

    def _functional_value(self, name: str, node_field: str) -> Any:
        # A sublayer or weight the user named `input` / `output` wins, as in plain torch.
        for store in (self.__dict__["_modules"], self.__dict__["_parameters"]):
            if name in store:
                return store[name]
        if self.__dict__.get(f"_{name}") is not None:
            return self.__dict__[f"_{name}"]
        if not self._inbound_nodes:
            raise AttributeError(_never_called_message(self, name))
        values = getattr(self._inbound_nodes[0], node_field)
        return values[0] if len(values) == 1 else values

    # ------------------------------------------------------------------ naming

    @property
    def path(self) -> "str | None":
        """ "outer/inner" path of the layer, fixed when it is first built or called."""
        return self._path

    def _ensure_path(self) -> str:
        if self._path is None:
            parent = STATE.path
            self._path = f"{parent}/{self.name}" if parent else self.name
        return self._path

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.__dict__.get('name')}, built={self.built}>"

    # ------------------------------------------------- attribute reads, conversions

    def __getattr__(self, name: str) -> Any:
        parameters = self.__dict__["_parameters"]
        if name in parameters:
            variable = parameters[name]
            dtype = STATE.autocast_dtype
            if (
                dtype is not None
                and isinstance(variable, Variable)
                and variable.dtype != dtype
                and variable._cast_on_read
                and variable.is_floating_point()
            ):
                return variable.to(dtype)
            return variable
        if name in ("input", "output"):
            # The property raised AttributeError (never called): keep its message.
            raise AttributeError(_never_called_message(self, name))
        return torch.nn.Module.__getattr__(self, name)

    def _apply(self, fn: Any, recurse: bool = True) -> "Layer":
        """torch's `.to()` / `.half()` / ...: Variables stay Variables.

        torch swaps the data of each parameter in place when it can (CPU <-> CUDA, dtype
        casts) and otherwise (e.g. to "meta") puts a new plain Parameter in its place; such
        a new Parameter is turned back into a Variable with the old one's Keras attributes.
        """
        before = dict(self.__dict__["_parameters"])
        result = super()._apply(fn, recurse)
        parameters = self.__dict__["_parameters"]
        for key, old in before.items():
            new = parameters.get(key)
            if isinstance(old, Variable) and new is not None and not isinstance(new, Variable):
                parameters[key] = self._replace_variable(old, new)
        return result

    def _replace_variable(self, old: Variable, new: torch.Tensor) -> Variable:
        variable = _rebuild_variable(type(old), new.data, new.requires_grad, dict(old.__dict__))
        for store in (self._trainable_variables, self._non_trainable_variables):
            store[:] = [variable if v is old else v for v in store]
        if self._device_anchor is old:
            self.__dict__["_device_anchor"] = variable
        return variable

    def _check_super_called(self) -> None:
        if not self.__dict__.get("_initialized"):
            raise RuntimeError(
                f"In layer '{type(self).__name__}', you forgot to call `super().__init__()` as "
                "the first statement in the `__init__()` method. Go add it!"
            )


def _build_then_lock(build: Any) -> Any:
    """Wrap a class's `build`: run it in the layer's name scope, then (outermost `build` only)
    record the shapes, mark the layer built and lock its state."""
    if getattr(build, "_builds_then_locks", False):
        return build

    @functools.wraps(build)
    def wrapper(self: Layer, *args: Any, **kwargs: Any) -> None:
        if self._build_depth:
            return build(self, *args, **kwargs)
        self._check_super_called()
        params = self._call_spec.build_params or ("input_shape",)
        shapes = dict(zip(params, args), **kwargs)
        self._build_depth = 1
        try:
            with name_scope(self._ensure_path()):
                build(self, *args, **kwargs)
        finally:
            self._build_depth = 0
        self._build_shapes_dict = {k: _plain_shape(v) for k, v in shapes.items()}
        self.built = True
        self._locked = True

    wrapper._builds_then_locks = True
    return wrapper


Layer.build = _build_then_lock(Layer.build)


def _never_called_message(layer: Layer, what: str) -> str:
    return f"The layer {layer.name} has never been called and thus has no defined {what}."


def _unique(*groups: "list[Variable]") -> "list[Variable]":
    found, seen = [], set()
    for group in groups:
        for variable in group:
            if id(variable) not in seen:
                seen.add(id(variable))
                found.append(variable)
    return found


def _only_training_flag(kwargs: dict) -> bool:
    """Whether the keyword arguments are just `training=True/False/None` (fit's model call),
    which needs no input conversion."""
    if len(kwargs) != 1 or "training" not in kwargs:
        return False
    flag = kwargs["training"]
    return flag is None or flag is True or flag is False


def _mask_of(value: Any) -> Any:
    if isinstance(value, torch.Tensor) or value is None:
        return getattr(value, "_keras_mask", None)
    if type(value) in (tuple, list) and all(
        isinstance(t, torch.Tensor) and getattr(t, "_keras_mask", None) is None for t in value
    ):
        return None  # flat and unmasked: the common case, without building the structure
    if isinstance(value, (list, tuple, dict)):
        masks = map_structure(lambda t: getattr(t, "_keras_mask", None), value)
        return masks if any(m is not None for m in flatten(masks)) else None
    return None


def _shape_of(value: Any) -> Any:
    return map_structure(lambda t: tuple(t.shape) if hasattr(t, "shape") else None, value)


def _plain_shape(shape: Any) -> Any:
    if isinstance(shape, (torch.Size, tuple, list)) and all(
        d is None or isinstance(d, int) for d in shape
    ):
        return tuple(shape)
    return shape


def _shapes_for_build(layer: Layer, shapes: dict) -> dict:
    """Match `build(self, foo_shape, bar_shape)` parameters to `call(foo, bar)` arguments."""
    params, required = layer._call_spec.build_params, layer._call_spec.build_required
    # A parameter with a default (`key_shape=None`) may lack a call argument, as in Keras.
    missing = [p for p in params if not p.endswith("_shape") or (p not in shapes and p in required)]
    if missing:
        raise ValueError(
            f"Layer '{layer.name}': for a `build()` method with more than one argument, all "
            "arguments should have a `_shape` suffix and match an argument from `call()`. "
            f"E.g. `build(self, foo_shape, bar_shape)`. Received build arguments {params} and "
            f"call input shapes {list(shapes)}."
        )
    return {p: shapes[p] for p in params if p in shapes}


def _lookup(namespace: str, identifier: Any) -> Any:
    """`tritonlayers.<namespace>.get(identifier)`, imported on first use."""
    if identifier is None:
        return None
    import importlib

    return importlib.import_module(f"tritonlayers.{namespace}").get(identifier)


def _default_device() -> torch.device:
    from .. import config

    return config.device()


def _is_text(x: Any) -> bool:
    """Whether `x` is a NumPy array (or scalar) of strings, which no tensor can hold.

    Example:
    >>> _is_text(np.array([["a b"]])), _is_text(np.zeros(2))
    (True, False)
    """
    return isinstance(x, (np.ndarray, np.generic)) and x.dtype.kind in "USO"
