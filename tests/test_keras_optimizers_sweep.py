"""Differences found by an optimizer and schedule sweep against Keras 3.15 (torch backend):
every optimizer both packages have, five updates of a 2-D and a 1-D variable with fixed
gradients, defaults and variants (schedules, clipping, weight decay, EMA, gradient
accumulation, loss scaling), configs, state variables and argument errors.
Each expected value below was checked against Keras 3.15.
"""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import optimizers

_W0 = np.array([0.5, -1.0, 2.0], dtype="float32")
_GRADS = np.array([[1.0, -2.0, 0.5], [0.3, 0.1, -1.0], [-0.7, 0.4, 0.2]], dtype="float32")


@pytest.mark.parametrize(
    "steps, iterations, last_w",
    [
        # Keras 3.15, SGD(0.1): `iterations` counts updates, i.e. calls // steps.
        (2, [0, 1, 1, 2, 2], [0.42, -0.825, 1.99]),
        (3, [0, 0, 1, 1, 1], [0.48, -0.95, 2.01]),
    ],
)
def test_iterations_count_updates_under_gradient_accumulation(steps, iterations, last_w):
    w = keras.Variable(_W0.copy(), name="w")
    optimizer = optimizers.SGD(0.1, gradient_accumulation_steps=steps)
    seen = []
    for i in range(5):
        optimizer.apply([torch.from_numpy(_GRADS[i % 3])], [w])
        seen.append(int(optimizer.iterations))
    assert seen == iterations
    np.testing.assert_allclose(w.numpy(), last_w, rtol=1e-6)


@pytest.mark.parametrize(
    "kwargs, received",
    [
        ({"clipnorm": 1.0, "clipvalue": 0.5}, "clipnorm=1.0, clipvalue=0.5, global_clipnorm=None"),
        (
            {"clipvalue": 0.5, "global_clipnorm": 1.0},
            "clipnorm=None, clipvalue=0.5, global_clipnorm=1.0",
        ),
    ],
)
def test_only_one_clipping_argument_is_accepted(kwargs, received):
    # Keras 3.15 rejects any two of clipnorm, clipvalue and global_clipnorm.
    message = (
        "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
        f"Received: {received}"
    )
    with pytest.raises(ValueError) as info:
        optimizers.SGD(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "kwargs, message",
    [
        (
            {"use_ema": True, "ema_momentum": 2.0},
            "`ema_momentum` must be in the range [0, 1]. Received: ema_momentum=2.0",
        ),
        (
            {"use_ema": True, "ema_overwrite_frequency": 2.5},
            "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
            "ema_overwrite_frequency=2.5",
        ),
        (
            {"use_ema": True, "ema_overwrite_frequency": -1},
            "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
            "ema_overwrite_frequency=-1",
        ),
        (
            {"learning_rate": "x"},
            "Argument `learning_rate` should be float, or an instance of LearningRateSchedule, "
            "or a callable (that takes in the current iteration value and returns the "
            "corresponding learning rate value). Received instead: learning_rate=x",
        ),
    ],
)
def test_bad_base_arguments_get_keras_errors(kwargs, message):
    with pytest.raises(ValueError) as info:
        optimizers.Adam(**kwargs)
    assert str(info.value) == message


@pytest.mark.parametrize(
    "kwargs, key, value",
    [
        # Keras 3.15 checks the EMA arguments only with use_ema=True, and 0 steps means none.
        ({"ema_momentum": 2.0}, "ema_momentum", 2.0),
        ({"gradient_accumulation_steps": 0}, "gradient_accumulation_steps", 0),
    ],
)
def test_unused_base_arguments_are_accepted_as_keras(kwargs, key, value):
    assert optimizers.Adam(**kwargs).get_config()[key] == value


@pytest.mark.parametrize(
    "make, slot_names",
    [
        # Keras 3.15 names of the state variables (besides iteration and learning_rate).
        (
            lambda: optimizers.SGD(gradient_accumulation_steps=2),
            {"w_gradient_accumulator"},
        ),
        (lambda: optimizers.Adamax(), {"w_momentum", "w_norm"}),
    ],
    ids=["accumulator", "adamax"],
)
def test_state_variable_names_match_keras(make, slot_names):
    optimizer = make()
    optimizer.build([keras.Variable(_W0.copy(), name="w")])
    assert {v.name for v in optimizer.variables[2:]} == slot_names
