"""tritonlayers: Keras 3's Layer/Model API over PyTorch, with fused Triton kernels on GPUs.

Port a Keras 3 program by changing its import:

>>> import tritonlayers as keras
>>> layer = keras.layers.Dense(4, activation="relu")
>>> tuple(layer(keras.ops.ones((2, 3))).shape)
(2, 4)

Namespaces load on first use, so importing the package stays cheap.
"""

import importlib

__version__ = "0.1.0"

_NAMESPACES = (
    "activations",
    "backend",
    "callbacks",
    "config",
    "constraints",
    "datasets",
    "dtype_policies",
    "initializers",
    "kernels",
    "layers",
    "losses",
    "metrics",
    "mixed_precision",
    "models",
    "ops",
    "optimizers",
    "preprocessing",
    "random",
    "regularizers",
    "saving",
    "tree",
    "utils",
)
_NAMES = {
    "Constraint": "constraints",
    "DTypePolicy": "dtype_policies",
    "Initializer": "initializers",
    "InputSpec": "layers",
    "Loss": "losses",
    "Metric": "metrics",
    "Optimizer": "optimizers",
    "Regularizer": "regularizers",
    "Layer": "layers",
    "Variable": "layers",
    "Input": "models",
    "Model": "models",
    "Sequential": "models",
    "KerasTensor": "layers.symbolic",
    "Operation": "operation",
    "Function": "operation",
    "name_scope": "scopes",
    "device": "scopes",
}

__all__ = [*_NAMESPACES, *_NAMES, "version"]


def version() -> str:
    """The tritonlayers version (Keras's `keras.version()` gives Keras's own).

    Example:
    >>> import tritonlayers as keras
    >>> keras.version() == keras.__version__
    True
    """
    return __version__


def __getattr__(name):
    if name in _NAMESPACES:
        return importlib.import_module(f"{__name__}.{name}")
    if name in _NAMES:
        return getattr(importlib.import_module(f"{__name__}.{_NAMES[name]}"), name)
    raise AttributeError(f"module 'tritonlayers' has no attribute {name!r}")


def __dir__():
    return sorted([*globals(), *__all__])
