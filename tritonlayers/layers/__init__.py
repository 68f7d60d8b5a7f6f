"""Layers: the `Layer` base class, `Variable`, `InputSpec`, and the built-in layers.

Example:
>>> import tritonlayers as keras
>>> keras.layers.Layer is keras.Layer
True
"""

from .input_spec import InputSpec
from .layer import Layer
from .variables import Variable

__all__ = ["InputSpec", "Layer", "Variable"]
