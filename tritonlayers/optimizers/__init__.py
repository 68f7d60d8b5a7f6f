"""Keras 3 optimizers over torch: SGD, Adam, AdamW, RMSprop, Adagrad, Adamax, Nadam, Lion,
Adadelta, Ftrl, Lamb, Adafactor, Muon and ScheduleFreeAdamW; LossScaleOptimizer wraps any
of them.

Every optimizer also takes the base arguments of `Optimizer` by keyword (`weight_decay`,
`clipnorm`, `clipvalue`, `global_clipnorm`, `loss_scale_factor`, `name`).

Each follows Keras's published update rule and defaults (epsilon 1e-7, Adagrad's 0.1
initial accumulator, ...), runs as torch multi-tensor (`_foreach`) kernels, and reads its
learning rate (float or `schedules.LearningRateSchedule`) from device tensors, so a training
step never waits for the GPU.

Example:
>>> import tritonlayers as keras
>>> opt = keras.optimizers.get("adam")
>>> type(opt).__name__, opt.epsilon
('Adam', 1e-07)
"""

import inspect

from . import schedules
from .adadelta import Adadelta
from .adafactor import Adafactor
from .adam import Adam, Adamax, AdamW, Nadam
from .base import Optimizer
from .ftrl import Ftrl
from .lamb import Lamb
from .lion import Lion
from .loss_scale_optimizer import LossScaleOptimizer
from .muon import Muon
from .rmsprop import Adagrad, RMSprop
from .schedule_free_adamw import ScheduleFreeAdamW
from .sgd import SGD

__all__ = [
    "SGD",
    "Adadelta",
    "Adafactor",
    "Adagrad",
    "Adam",
    "AdamW",
    "Adamax",
    "Ftrl",
    "Lamb",
    "Lion",
    "LossScaleOptimizer",
    "Muon",
    "Nadam",
    "Optimizer",
    "RMSprop",
    "ScheduleFreeAdamW",
    "deserialize",
    "get",
    "schedules",
    "serialize",
]

ALL_OBJECTS = {
    cls.__name__: cls
    for cls in (
        Optimizer,
        SGD,
        Adam,
        AdamW,
        Adamax,
        Nadam,
        RMSprop,
        Adagrad,
        Lion,
        Adadelta,
        Ftrl,
        Lamb,
        Adafactor,
        Muon,
        ScheduleFreeAdamW,
        LossScaleOptimizer,
    )
}
ALL_OBJECTS_DICT = {**ALL_OBJECTS, **{name.lower(): cls for name, cls in ALL_OBJECTS.items()}}


def serialize(optimizer: Optimizer) -> dict:
    """An optimizer as a Keras 3 config dict.

    Example:
    >>> serialize(SGD(momentum=0.9))["config"]["momentum"]
    0.9
    """
    from ..saving import serialization_lib

    return serialization_lib.serialize_keras_object(optimizer)


def deserialize(config: dict, custom_objects: dict | None = None) -> Optimizer:
    """Rebuild an optimizer from `serialize`'s output; class names match case-insensitively.

    Example:
    >>> type(deserialize({"class_name": "adam", "config": {"learning_rate": 0.01}})).__name__
    'Adam'
    """
    from ..saving import serialization_lib

    if isinstance(config, dict) and isinstance(config.get("class_name"), str):
        lowered = config["class_name"].lower()
        if lowered in ALL_OBJECTS_DICT:
            config = {**config, "class_name": ALL_OBJECTS_DICT[lowered].__name__}
    return serialization_lib.deserialize_keras_object(
        config, custom_objects=custom_objects, module_objects=ALL_OBJECTS_DICT
    )


def get(identifier) -> Optimizer:
    """An optimizer from a name ("adam", "SGD"), a config dict, a class or an instance.

    Example:
    >>> get("rmsprop").get_config()["rho"]
    0.9
    """
    if isinstance(identifier, Optimizer):
        return identifier
    if isinstance(identifier, dict):
        return deserialize(identifier)
    if isinstance(identifier, str):
        if identifier.lower() in ALL_OBJECTS_DICT:
            return ALL_OBJECTS_DICT[identifier.lower()]()
        from ..saving import object_registration

        identifier = object_registration.get_registered_object(identifier) or identifier
    if inspect.isclass(identifier) and issubclass(identifier, Optimizer):
        return identifier()
    raise ValueError(f"Could not interpret optimizer identifier: {identifier}")
