"""Models: `Model` (subclassing and functional), `Sequential`, `Input`, and model helpers.

Example:
>>> import tritonlayers as keras
>>> model = keras.models.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
>>> isinstance(model, keras.Model)
True
"""

from .cloning import clone_model
from .functional import Functional, Input
from .model import Model
from .sequential import Sequential


def model_from_json(json_string: str, custom_objects: "dict | None" = None) -> Model:
    """Rebuild a (freshly initialized) model from `model.to_json()`.

    Example:
    >>> import tritonlayers as keras
    >>> model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    >>> type(keras.models.model_from_json(model.to_json())).__name__
    'Sequential'
    """
    from ..saving import model_from_json as load_from_json

    return load_from_json(json_string, custom_objects=custom_objects)


def save_model(model: Model, filepath: str, overwrite: bool = True) -> None:
    """Save `model` to a `.keras` file (see `tritonlayers.saving.save_model`)."""
    from ..saving import save_model as save

    save(model, filepath, overwrite=overwrite)


def load_model(
    filepath: str,
    custom_objects: "dict | None" = None,
    compile: bool = True,
    safe_mode: bool = True,
) -> Model:
    """Load a `.keras` file saved by `model.save` (see `tritonlayers.saving.load_model`)."""
    from ..saving import load_model as load

    return load(filepath, custom_objects=custom_objects, compile=compile, safe_mode=safe_mode)


__all__ = [
    "Functional",
    "Input",
    "Model",
    "Sequential",
    "clone_model",
    "load_model",
    "model_from_json",
    "save_model",
]
