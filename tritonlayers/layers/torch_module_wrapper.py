"""TorchModuleWrapper: a plain `torch.nn.Module` used as a layer.

Keras 3 (torch backend) wraps each parameter of the module in a Keras Variable so that the
layer tracks it; here a Variable *is* a `torch.nn.Parameter`, so the wrapper puts Variables
in the module's place: the module computes with them, `trainable_weights` lists them, the
optimizer of `fit` updates them and weights files save them. The module's persistent
buffers (BatchNorm statistics) become non-trainable Variables the same way, so they are
saved too (Keras saves them through the module's `state_dict`).
"""

import base64
import io
from typing import Any

import torch

from .. import config as global_config
from ..saving.serialization_lib import DeserializationError, in_safe_mode
from .layer import Layer
from .tracking import is_layer
from .variables import Variable, _rebuild_variable

_UNSAFE_MODULE_MESSAGE = (
    "Requested the deserialization of a `torch.nn.Module` object via `torch.load()`. This "
    "carries a potential risk of arbitrary code execution and thus it is disallowed by "
    "default. If you trust the source of the artifact, you can override this error by "
    "passing `safe_mode=False` to the loading function, or calling "
    "`keras.config.enable_unsafe_deserialization()`."
)


class TorchModuleWrapper(Layer):
    """Turns any `torch.nn.Module` into a layer whose parameters are tracked weights.

    Args:
        module: the `torch.nn.Module`; a lazy module must be initialized first (call it
            once). It is moved to `config.device()`.
        name: the layer's name.
        output_shape: the output shape, for shape inference without running the module.

    `call(*args, training=None, **kwargs)` puts the module in eval mode when `training` is
    False (train mode otherwise, as in Keras) and returns `module(*args, **kwargs)`. The
    config holds the pickled module (`torch.save`, base64), so loading it runs pickle:
    `from_config` refuses it in safe mode (`safe_mode=False` for files you trust).

    Example:
    >>> import torch, tritonlayers as keras
    >>> layer = keras.layers.TorchModuleWrapper(torch.nn.Linear(3, 2))
    >>> [w.name for w in layer.trainable_weights], tuple(layer(torch.ones(4, 3)).shape)
    (['weight', 'bias'], (4, 2))
    """

    def __init__(
        self, module: torch.nn.Module, name: "str | None" = None, output_shape=None, **kwargs
    ):
        if not isinstance(module, torch.nn.Module):
            raise ValueError(
                "TorchModuleWrapper: `module` must be a `torch.nn.Module` instance. "
                f"Received: module={module!r} (of type {type(module).__name__})"
            )
        if (
            isinstance(module, torch.nn.modules.lazy.LazyModuleMixin)
            and module.has_uninitialized_params()
        ):
            raise ValueError(
                "LazyModules are not supported unless they are already initialized. "
                f"Received uninitialized LazyModule: module={module}"
            )
        super().__init__(name=name, **kwargs)
        self.module = module.to(global_config.device())
        self.output_shape = None if output_shape is None else _as_shape(output_shape)
        if output_shape is not None:
            # A declared shape wins; without one, the shape is found by running the module
            # on fake tensors (Layer's default `compute_output_shape`).
            self.compute_output_shape = self._declared_output_shape
        # (submodule, "_parameters" or "_buffers", key) -> the Variable stored there.
        self.__dict__["_slots"] = [] if is_layer(module) else self._wrap_module_state()
        self.built = True

    def _wrap_module_state(self) -> list:
        slots, made = [], {}
        for prefix, submodule in self.module.named_modules(remove_duplicate=False):
            stores = [("_parameters", key) for key in submodule._parameters] + [
                ("_buffers", key)
                for key in submodule._buffers
                if key not in submodule._non_persistent_buffers_set
            ]
            for store, key in stores:
                tensor = getattr(submodule, store)[key]
                if tensor is None:
                    continue
                if id(tensor) not in made:
                    made[id(tensor)] = self._as_variable(
                        tensor, f"{prefix}.{key}" if prefix else key, store == "_parameters"
                    )
                getattr(submodule, store)[key] = made[id(tensor)]
                slots.append((submodule, store, key, made[id(tensor)]))
        return slots

    def _as_variable(self, tensor: torch.Tensor, name: str, is_parameter: bool) -> Variable:
        """A Variable sharing `tensor`'s storage, tracked by this layer only (no second
        torch registration: the module already holds it)."""
        if isinstance(tensor, Variable):
            variable = tensor
        else:
            trainable = is_parameter and tensor.requires_grad
            variable = Variable(
                tensor.detach(),
                dtype=tensor.dtype,
                trainable=trainable,
                name=name,
                device=tensor.device,
            )
        self._track_variable(variable)
        self._unregister_auto(self.__dict__["_parameters"], variable)
        return variable

    def _apply(self, fn: Any, recurse: bool = True) -> "TorchModuleWrapper":
        """torch's `.to()` / `.half()`: a tensor torch replaced becomes a Variable again."""
        result = super()._apply(fn, recurse)
        replaced = {}
        for index, (submodule, store, key, variable) in enumerate(self._slots):
            current = getattr(submodule, store)[key]
            if current is variable:
                continue
            if id(variable) not in replaced:
                requires_grad = variable.trainable and current.is_floating_point()
                new = _rebuild_variable(
                    type(variable), current.data, requires_grad, dict(variable.__dict__)
                )
                replaced[id(variable)] = new
                for own in (self._trainable_variables, self._non_trainable_variables):
                    own[:] = [new if v is variable else v for v in own]
            getattr(submodule, store)[key] = replaced[id(variable)]
            self._slots[index] = (submodule, store, key, replaced[id(variable)])
        return result

    def call(self, *args, training=None, **kwargs):
        self.module.train(training is not False)
        return self.module(*args, **kwargs)

    def _declared_output_shape(self, *args, **kwargs):
        return self.output_shape

    def get_config(self):
        buffer = io.BytesIO()
        torch.save(self.module, buffer)
        return {
            **super().get_config(),
            "module": base64.b64encode(buffer.getvalue()).decode("ascii"),
            "output_shape": self.output_shape,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: Any = None, safe_mode: "bool | None" = None):
        """Rebuild the layer; the pickled module loads only outside safe mode."""
        config = dict(config)
        if "module" in config:
            if (in_safe_mode() if safe_mode is None else safe_mode) is not False:
                raise DeserializationError(_UNSAFE_MODULE_MESSAGE)
            data = base64.b64decode(config["module"].encode("ascii"))
            config["module"] = torch.load(io.BytesIO(data), weights_only=False)
        return cls(**config)


def _as_shape(shape: Any) -> Any:
    """A declared output shape as tuples (a JSON config turns them into lists)."""
    if isinstance(shape, (list, tuple)) and all(isinstance(s, (list, tuple)) for s in shape):
        return [tuple(s) for s in shape]
    return tuple(shape)
