"""`keras.backend`: the backend name, float defaults and `clear_session`, as Keras 3 exposes them.

Example:
>>> import tritonlayers as keras
>>> keras.backend.backend(), keras.backend.floatx()
('torch', 'float32')
"""

from .config import (
    backend,
    epsilon,
    floatx,
    image_data_format,
    set_epsilon,
    set_floatx,
    set_image_data_format,
)
from .layers.symbolic import is_keras_tensor
from .utils import clear_session

__all__ = [
    "backend",
    "clear_session",
    "epsilon",
    "floatx",
    "image_data_format",
    "is_keras_tensor",
    "set_epsilon",
    "set_floatx",
    "set_image_data_format",
]
