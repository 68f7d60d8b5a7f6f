"""Global settings: device, default float type, epsilon, kernel mode, matmul precision.

Example:
>>> import tritonlayers as keras
>>> keras.config.floatx()
'float32'
>>> keras.config.backend()
'torch'
"""

import torch

from .kernels._dispatch import kernel_mode, set_kernel_mode

__all__ = [
    "backend",
    "device",
    "disable_traceback_filtering",
    "dtype_policy",
    "enable_traceback_filtering",
    "epsilon",
    "float32_matmul_precision",
    "floatx",
    "image_data_format",
    "is_traceback_filtering_enabled",
    "kernel_mode",
    "set_device",
    "set_dtype_policy",
    "set_epsilon",
    "set_float32_matmul_precision",
    "set_floatx",
    "set_image_data_format",
    "set_kernel_mode",
]

_FLOAT_TYPES = ("float16", "bfloat16", "float32", "float64")
_settings = {
    "device": None,
    "floatx": "float32",
    "epsilon": 1e-7,
    "image_data_format": "channels_last",
    "traceback_filtering": True,
}


def backend() -> str:
    """The array backend: always "torch"."""
    return "torch"


def set_device(device: "str | torch.device | None") -> None:
    """Put new variables and training data on `device` ("cuda", "cpu", ...); None = auto."""
    _settings["device"] = None if device is None else torch.device(device)


def device() -> torch.device:
    """The device for new variables and data: the one set, else CUDA when present, else CPU."""
    if _settings["device"] is not None:
        return _settings["device"]
    return torch.device("cuda" if torch.cuda.is_available() else "cpu")


def floatx() -> str:
    """The default float dtype name, "float32" unless changed."""
    return _settings["floatx"]


def set_floatx(value: str) -> None:
    """Set the default float dtype name (one of float16, bfloat16, float32, float64)."""
    if value not in _FLOAT_TYPES:
        raise ValueError(f"Unknown floatx {value!r}; expected one of {_FLOAT_TYPES}.")
    _settings["floatx"] = value


def epsilon() -> float:
    """The fuzz factor used in numeric expressions, 1e-7 unless changed."""
    return _settings["epsilon"]


def set_epsilon(value: float) -> None:
    """Set the fuzz factor used in numeric expressions."""
    _settings["epsilon"] = float(value)


def image_data_format() -> str:
    """The default image layout: "channels_last" unless changed."""
    return _settings["image_data_format"]


def set_image_data_format(data_format: str) -> None:
    """Set the default image layout, "channels_last" or "channels_first"."""
    if data_format not in ("channels_last", "channels_first"):
        raise ValueError(
            f"data_format must be 'channels_last' or 'channels_first'; received {data_format!r}."
        )
    _settings["image_data_format"] = data_format


def float32_matmul_precision() -> str:
    """torch's float32 matmul precision ("highest" = IEEE, "high"/"medium" = TF32)."""
    return torch.get_float32_matmul_precision()


def set_float32_matmul_precision(precision: str) -> None:
    """Set torch's float32 matmul precision; the fused Triton matmul follows it too."""
    torch.set_float32_matmul_precision(precision)


def dtype_policy():
    """The global dtype policy new layers get without `dtype=` ("float32" unless changed).

    Example:
    >>> import tritonlayers as keras
    >>> keras.config.dtype_policy()
    <DTypePolicy "float32">
    """
    from .dtype_policies import dtype_policy as global_policy

    return global_policy()


def set_dtype_policy(policy) -> None:
    """Set the global dtype policy: "mixed_float16", "mixed_bfloat16", "float32", ...

    Example:
    >>> import tritonlayers as keras
    >>> keras.config.set_dtype_policy("mixed_bfloat16")
    >>> keras.config.dtype_policy().compute_dtype
    'bfloat16'
    >>> keras.config.set_dtype_policy("float32")
    """
    from .dtype_policies import set_dtype_policy as set_global_policy

    set_global_policy(policy)


def enable_traceback_filtering() -> None:
    """Errors raised inside a layer's `call()` name the layer and list the call's arguments
    (the default, as in Keras).

    Example:
    >>> import tritonlayers as keras
    >>> keras.config.enable_traceback_filtering()
    >>> keras.config.is_traceback_filtering_enabled()
    True
    """
    _settings["traceback_filtering"] = True


def disable_traceback_filtering() -> None:
    """Errors raised inside a layer's `call()` propagate unchanged.

    Example:
    >>> import tritonlayers as keras
    >>> keras.config.disable_traceback_filtering()
    >>> keras.config.is_traceback_filtering_enabled()
    False
    >>> keras.config.enable_traceback_filtering()
    """
    _settings["traceback_filtering"] = False


def is_traceback_filtering_enabled() -> bool:
    """Whether errors raised inside `call()` get the call's arguments added (default True).

    Example:
    >>> import tritonlayers as keras
    >>> keras.config.is_traceback_filtering_enabled()
    True
    """
    return _settings["traceback_filtering"]
