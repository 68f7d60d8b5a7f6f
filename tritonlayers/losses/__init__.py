"""Keras 3 losses over torch: `Loss` classes, per-sample loss functions, reductions, lookup.

A loss function (`mean_squared_error`, ...) maps `(y_true, y_pred)` to one loss per sample
(the last axis reduced). A `Loss` object wraps one, applies `sample_weight` and the
`_keras_mask` of `y_pred`, then reduces to a scalar. Everything stays on the device.

Example:
>>> import tritonlayers as keras
>>> loss = keras.losses.MeanSquaredError()
>>> round(float(loss([[0.0, 1.0]], [[1.0, 1.0]])), 4)
0.5
>>> keras.losses.get("mse") is keras.losses.mean_squared_error
True
"""

import inspect

from .loss import (
    REDUCTIONS,
    Loss,
    LossFunctionWrapper,
    reduce_values,
    reduce_weighted_values,
    squeeze_or_expand_to_same_rank,
    standardize_reduction,
)
from .loss_classes import (
    CTC,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    CategoricalFocalCrossentropy,
    CategoricalGeneralizedCrossEntropy,
    CategoricalHinge,
    Circle,
    CosineSimilarity,
    Dice,
    Hinge,
    Huber,
    KLDivergence,
    LogCosh,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredError,
    MeanSquaredLogarithmicError,
    Poisson,
    SparseCategoricalCrossentropy,
    SquaredHinge,
    Tversky,
)
from .loss_functions import (
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    categorical_focal_crossentropy,
    categorical_generalized_cross_entropy,
    categorical_hinge,
    circle,
    cosine_similarity,
    ctc,
    dice,
    hinge,
    huber,
    kl_divergence,
    log_cosh,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_error,
    mean_squared_logarithmic_error,
    poisson,
    sparse_categorical_crossentropy,
    squared_hinge,
    tversky,
)

__all__ = [
    "REDUCTIONS",
    "reduce_values",
    "reduce_weighted_values",
    "squeeze_or_expand_to_same_rank",
    "standardize_reduction",
    "Loss",
    "LossFunctionWrapper",
    "MeanSquaredError",
    "MeanAbsoluteError",
    "MeanAbsolutePercentageError",
    "MeanSquaredLogarithmicError",
    "Huber",
    "LogCosh",
    "BinaryCrossentropy",
    "BinaryFocalCrossentropy",
    "CategoricalCrossentropy",
    "SparseCategoricalCrossentropy",
    "KLDivergence",
    "Poisson",
    "CosineSimilarity",
    "Hinge",
    "SquaredHinge",
    "CategoricalHinge",
    "CategoricalFocalCrossentropy",
    "Dice",
    "Tversky",
    "Circle",
    "CategoricalGeneralizedCrossEntropy",
    "CTC",
    "mean_squared_error",
    "mean_absolute_error",
    "mean_absolute_percentage_error",
    "mean_squared_logarithmic_error",
    "huber",
    "log_cosh",
    "binary_crossentropy",
    "binary_focal_crossentropy",
    "categorical_crossentropy",
    "sparse_categorical_crossentropy",
    "kl_divergence",
    "poisson",
    "cosine_similarity",
    "hinge",
    "squared_hinge",
    "categorical_hinge",
    "categorical_focal_crossentropy",
    "dice",
    "tversky",
    "circle",
    "categorical_generalized_cross_entropy",
    "ctc",
    "get",
    "serialize",
    "deserialize",
]

_CLASSES = (
    Loss,
    LossFunctionWrapper,
    MeanSquaredError,
    MeanAbsoluteError,
    MeanAbsolutePercentageError,
    MeanSquaredLogarithmicError,
    Huber,
    LogCosh,
    BinaryCrossentropy,
    BinaryFocalCrossentropy,
    CategoricalCrossentropy,
    SparseCategoricalCrossentropy,
    KLDivergence,
    Poisson,
    CosineSimilarity,
    Hinge,
    SquaredHinge,
    CategoricalHinge,
    CategoricalFocalCrossentropy,
    Dice,
    Tversky,
    Circle,
    CategoricalGeneralizedCrossEntropy,
    CTC,
)
_FUNCTIONS = (
    mean_squared_error,
    mean_absolute_error,
    mean_absolute_percentage_error,
    mean_squared_logarithmic_error,
    huber,
    log_cosh,
    binary_crossentropy,
    binary_focal_crossentropy,
    categorical_crossentropy,
    sparse_categorical_crossentropy,
    kl_divergence,
    poisson,
    cosine_similarity,
    hinge,
    squared_hinge,
    categorical_hinge,
    categorical_focal_crossentropy,
    dice,
    tversky,
    circle,
    categorical_generalized_cross_entropy,
    ctc,
)
ALL_OBJECTS = {obj.__name__: obj for obj in (*_CLASSES, *_FUNCTIONS)}
ALIASES = {
    "mse": mean_squared_error,
    "MSE": mean_squared_error,
    "mae": mean_absolute_error,
    "MAE": mean_absolute_error,
    "mape": mean_absolute_percentage_error,
    "MAPE": mean_absolute_percentage_error,
    "msle": mean_squared_logarithmic_error,
    "MSLE": mean_squared_logarithmic_error,
    "bce": binary_crossentropy,
    "BCE": binary_crossentropy,
    "kld": kl_divergence,
    "KLD": kl_divergence,
    "logcosh": log_cosh,
}
ALL_OBJECTS_DICT = {**ALL_OBJECTS, **ALIASES}


def serialize(loss) -> dict | str:
    """A loss object or function as a Keras 3 config dict.

    Example:
    >>> serialize(Huber())["class_name"]
    'Huber'
    """
    from ..saving import serialization_lib

    return serialization_lib.serialize_keras_object(loss)


def deserialize(config, custom_objects: dict | None = None):
    """Rebuild a loss from `serialize`'s output (or a name).

    Example:
    >>> deserialize({"class_name": "Huber", "config": {"delta": 2.0}}).delta
    2.0
    """
    if isinstance(config, str) and config in ALL_OBJECTS_DICT:
        return ALL_OBJECTS_DICT[config]
    if isinstance(config, dict) and config.get("class_name") in ALL_OBJECTS:
        cls = ALL_OBJECTS[config["class_name"]]
        if inspect.isclass(cls):
            return cls.from_config(config.get("config") or {})
    from ..saving import serialization_lib

    return serialization_lib.deserialize_keras_object(config, custom_objects=custom_objects)


def get(identifier):
    """A loss from a name ("mse", "BinaryCrossentropy"), config dict, class, or callable.

    Strings naming a function return the function; names of classes return an instance.

    Example:
    >>> get("mse") is mean_squared_error
    True
    >>> type(get("BinaryCrossentropy")).__name__
    'BinaryCrossentropy'
    """
    if identifier is None:
        return None
    if isinstance(identifier, dict):
        obj = deserialize(identifier)
    elif isinstance(identifier, str):
        obj = ALL_OBJECTS_DICT.get(identifier)
        if obj is None:
            from ..saving import object_registration

            obj = object_registration.get_registered_object(identifier)
    else:
        obj = identifier
    if inspect.isclass(obj):
        obj = obj()
    if callable(obj):
        return obj
    raise ValueError(
        f"Could not interpret loss identifier: {identifier!r}. Expected a loss name such as "
        f"'mse' or 'BinaryCrossentropy', a Loss instance, a config dict or a callable."
    )
