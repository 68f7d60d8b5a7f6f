"""An error raised inside a layer's `call()` comes out with the call's arguments, as in Keras.

While `keras.config.is_traceback_filtering_enabled()` (the default), the exception is raised
again as the same type with this message (an exception type that takes no message becomes
a RuntimeError)::

    Exception encountered when calling Dense.call().

    <the original message, in bold>

    Arguments received by Dense.call():
      • inputs=torch.Tensor(shape=torch.Size([2, 3]), dtype=float32)

Only the innermost call adds it: when a model's `call` runs a layer that fails, the model
passes the layer's annotated error on unchanged. An error of a layer's check of its own
inputs (Keras runs it before `call`) is annotated by the enclosing call, if any. Errors
raised while `call` is traced on stand-ins (to infer an output shape) are left as they are.

Example:
>>> import torch, tritonlayers as keras
>>> class Broken(keras.layers.Layer):
...     def call(self, inputs):
...         raise ValueError("no luck")
>>> try:
...     Broken()(torch.zeros(2, 3))
... except ValueError as error:
...     print(str(error).replace("\\x1b[1m", "").replace("\\x1b[0m", ""))
Exception encountered when calling Broken.call().
<BLANKLINE>
no luck
<BLANKLINE>
Arguments received by Broken.call():
  • inputs=torch.Tensor(shape=torch.Size([2, 3]), dtype=float32)
"""

import inspect
from typing import Any

import torch

from .. import config
from ..dtype_policies import standardize_dtype
from .call_context import STATE
from .nest import map_structure


def with_call_info(layer: Any, error: Exception, args: tuple, kwargs: dict) -> Exception:
    """`error` remade with `layer`'s call arguments in its message; `error` itself when
    filtering is off, when it already carries a call's arguments, or when the arguments do
    not bind to `call`'s signature.

    Example:
    >>> import tritonlayers as keras
    >>> error = with_call_info(keras.layers.Identity(), KeyError("k"), (None,), {})
    >>> type(error).__name__, error.args[0].splitlines()[0]
    ('KeyError', 'Exception encountered when calling Identity.call().')
    """
    if getattr(error, "_input_check_of", None) is layer:
        del error._input_check_of
        return error
    if (
        not config.is_traceback_filtering_enabled()
        or hasattr(error, "_keras_call_info_injected")
        or STATE.tracing  # the arguments are stand-ins, not the caller's
    ):
        return error
    signature = inspect.signature(layer.call)
    try:
        bound = signature.bind(*args, **kwargs)
    except TypeError:
        return error
    arguments = []
    for name, parameter in signature.parameters.items():
        if name in bound.arguments:
            value = map_structure(_describe, bound.arguments[name])
        else:
            value = parameter.default
        arguments.append(f"  • {name}={value}")
    if not arguments:
        return error
    where = f"{type(layer).__name__}.call()"
    message = error.args[0] if error.args else ""
    text = (
        f"Exception encountered when calling {where}.\n\n\x1b[1m{message}\x1b[0m\n\n"
        f"Arguments received by {where}:\n" + "\n".join(arguments)
    )
    try:
        annotated = type(error)(text)
    except TypeError:
        annotated = RuntimeError(text)
    annotated._keras_call_info_injected = True
    return annotated.with_traceback(error.__traceback__)


def input_check_error(layer: Any, message: str) -> ValueError:
    """The ValueError of a check that `layer` runs on its inputs inside its own `call` (a
    functional model's): `layer` raises it unannotated, as Keras checks before `call`, and
    an enclosing layer's call annotates it.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.Identity()
    >>> error = input_check_error(layer, "expected shape=(None, 3)")
    >>> with_call_info(layer, error, (), {}) is error
    True
    """
    error = ValueError(message)
    error._input_check_of = layer
    return error


def _describe(value: Any) -> Any:
    """A tensor as Keras lists it (shape and dtype, not the values); anything else as is."""
    if isinstance(value, torch.Tensor):
        return f"torch.Tensor(shape={value.shape}, dtype={standardize_dtype(value.dtype)})"
    return value
