"""What a layer's constructor was given: Keras 3's automatic config and input-shape hints.

Keras 3 records the arguments of `__init__` when they are all plain values (str, int, float,
bool, None, and lists/tuples/dicts of them), so a subclass that does not write `get_config`
still serializes. `Layer.__new__` calls `auto_config` before `__init__` runs.

Example:
>>> import tritonlayers as keras
>>> class Scale(keras.Layer):
...     def __init__(self, factor=2.0, **kwargs):
...         super().__init__(**kwargs)
>>> Scale(factor=3.0).get_config()["factor"]
3.0
"""

import warnings
from typing import Any

from .. import dtype_policies
from .nest import flatten

_PLAIN_TYPES = (str, int, float, bool, type(None))


def auto_config(spec: Any, args: tuple, kwargs: dict) -> "dict | None":
    """The constructor arguments (defaults filled in, `name` left out) when all are plain.

    A `dtype` given as a torch dtype or a DTypePolicy is kept as a serialized policy.
    None when an argument is not plain, or when `*args` were used.

    Example:
    >>> import tritonlayers as keras
    >>> from tritonlayers.layers.call_spec import call_spec_of
    >>> class Dense2(keras.Layer):
    ...     def __init__(self, units, use_bias=True, **kwargs):
    ...         super().__init__(**kwargs)
    >>> auto_config(call_spec_of(Dense2), (4,), {"name": "d"})
    {'units': 4, 'use_bias': True}
    """
    try:
        bound = spec.init_signature.bind(None, *args, **kwargs)
    except TypeError:
        return None
    bound.apply_defaults()
    params = spec.init_params
    config = {}
    for index, (name, value) in enumerate(bound.arguments.items()):
        kind = params[name].kind
        if index == 0 or name == "name":
            continue
        if kind == params[name].VAR_POSITIONAL:
            if value:
                return None
        elif kind == params[name].VAR_KEYWORD:
            config.update(value)
        else:
            config[name] = value
    config.pop("name", None)
    dtype = config.get("dtype")
    if dtype is not None and not isinstance(dtype, (str, dict)):
        try:
            config["dtype"] = dtype_policies.serialize(dtype_policies.get(dtype))
        except ValueError:
            return None  # `__init__` reports the bad dtype.
    plain = [value for key, value in config.items() if key != "dtype"]
    if not all(isinstance(leaf, _PLAIN_TYPES) for leaf in flatten(plain)):
        return None
    return config


def pop_input_shape_hint(kwargs: dict) -> "tuple | None":
    """Take Keras's `input_dim` / `input_shape` / `batch_input_shape` out of `kwargs`.

    Returns the per-sample shape (Sequential's first layer uses it), warning as Keras does;
    a `batch_input_shape` leaves its batch size in `kwargs["batch_size"]`.

    Example:
    >>> import warnings
    >>> with warnings.catch_warnings():
    ...     warnings.simplefilter("ignore")
    ...     pop_input_shape_hint({"input_dim": 8})
    (8,)
    """
    input_dim = kwargs.pop("input_dim", None)
    input_shape = kwargs.pop("input_shape", None)
    batch_input_shape = kwargs.pop("batch_input_shape", None)
    if input_dim is not None:
        input_shape = (input_dim,)
    elif batch_input_shape is not None:
        kwargs.setdefault("batch_size", batch_input_shape[0])
        input_shape = tuple(batch_input_shape[1:])
    if input_shape is None:
        return None
    warnings.warn(
        "Do not pass an `input_shape`/`input_dim` argument to a layer. When using Sequential "
        "models, prefer using an `Input(shape)` object as the first layer in the model "
        "instead.",
        stacklevel=3,
    )
    return tuple(input_shape) if isinstance(input_shape, (list, tuple)) else (input_shape,)
