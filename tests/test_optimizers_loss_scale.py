"""Loss scaling: `loss_scale_factor` in fit, and LossScaleOptimizer's dynamic scale."""

import numpy as np
import pytest
import torch

import tritonlayers as keras

X, Y = np.ones((4, 3), "float32"), np.zeros((4, 1), "float32")


def _model(optimizer, dtype=None):
    model = keras.Sequential(
        [
            keras.Input((3,)),
            keras.layers.Dense(1, kernel_initializer="ones", bias_initializer="zeros", dtype=dtype),
        ]
    )
    model.compile(optimizer, "mse")
    return model


@pytest.mark.parametrize(
    "optimizer",
    [
        lambda: keras.optimizers.SGD(0.1, loss_scale_factor=128.0),
        lambda: keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.1)),
    ],
    ids=["loss_scale_factor", "loss_scale_optimizer"],
)
def test_scaled_training_step_equals_the_unscaled_one(optimizer):
    # Keras 3.15 gives the same numbers: loss 9, then every kernel entry 0.4.
    model = _model(optimizer())
    assert model.train_on_batch(X, Y) == 9.0
    np.testing.assert_allclose(model.get_weights()[0], np.full((3, 1), 0.4), rtol=1e-6)


def test_scale_loss_multiplies_by_the_current_scale():
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), initial_scale=8.0)
    assert float(optimizer.scale_loss(torch.tensor(0.5))) == 4.0
    assert float(keras.optimizers.SGD().scale_loss(torch.tensor(0.5))) == 0.5


def test_finite_steps_count_up_and_double_the_scale_every_growth_period():
    w = keras.Variable(torch.zeros(2), name="w")
    optimizer = keras.optimizers.LossScaleOptimizer(
        keras.optimizers.SGD(1.0), initial_scale=4.0, dynamic_growth_steps=3
    )
    for step in range(1, 7):
        scale = float(optimizer.dynamic_scale) if optimizer.built else 4.0
        optimizer.apply([torch.full((2,), scale)], [w])  # unscales to a gradient of 1
        np.testing.assert_allclose(w.numpy(), [-step, -step])
    assert float(optimizer.dynamic_scale) == 16.0 and int(optimizer.step_counter) == 0
    assert int(optimizer.iterations) == 6


@pytest.mark.parametrize("bad", [float("inf"), float("nan")])
def test_a_non_finite_gradient_skips_the_step_and_halves_the_scale(bad):
    w = keras.Variable(torch.ones(2), name="w")
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(), initial_scale=8.0)
    optimizer.apply([torch.tensor([1.0, bad])], [w])
    np.testing.assert_array_equal(w.numpy(), [1.0, 1.0])
    assert float(optimizer.dynamic_scale) == 4.0 and int(optimizer.iterations) == 0


def test_variables_list_the_wrapper_state_then_the_inner_optimizer_like_keras():
    optimizer = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD())
    optimizer.build([keras.Variable(torch.zeros(1), name="w")])
    names = [v.name for v in optimizer.variables]
    assert names == ["iteration", "learning_rate", "step_counter", "dynamic_scale"] + [
        "iteration",
        "learning_rate",
    ]


def test_config_round_trips_with_the_inner_optimizer():
    optimizer = keras.optimizers.LossScaleOptimizer(
        keras.optimizers.Adam(0.01), initial_scale=64.0, dynamic_growth_steps=10
    )
    config = keras.optimizers.serialize(optimizer)
    restored = keras.optimizers.deserialize(config)
    assert isinstance(restored, keras.optimizers.LossScaleOptimizer)
    assert isinstance(restored.inner_optimizer, keras.optimizers.Adam)
    assert restored.get_config() == optimizer.get_config()
    assert keras.mixed_precision.LossScaleOptimizer is keras.optimizers.LossScaleOptimizer


def test_saved_model_restores_the_dynamic_scale(tmp_path):
    model = _model(keras.optimizers.LossScaleOptimizer(keras.optimizers.Adam(), initial_scale=8.0))
    model.fit(X, Y, epochs=1, verbose=0)
    model.optimizer.apply([torch.full((3, 1), float("nan")), torch.zeros(1)])
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    assert float(loaded.optimizer.dynamic_scale) == 4.0
    assert int(loaded.optimizer.iterations) == int(model.optimizer.iterations) == 1


def test_mixed_float16_model_skips_overflowing_steps_then_trains():
    # At 2**15 the float16 kernel gradient (4 rows of 2**15) overflows: steps are skipped
    # and the scale halves until it fits, then the loss goes down.
    model = _model(keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.05)), "mixed_float16")
    history = model.fit(X, Y + 1.0, epochs=6, verbose=0)
    assert history.history["loss"][:3] == [4.0, 4.0, 4.0]
    assert history.history["loss"][-1] < 4.0
    assert float(model.optimizer.dynamic_scale) < 2.0**15


def test_keras_argument_errors():
    with pytest.raises(ValueError, match="no longer supports `dynamic=False`"):
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), dynamic=False)
    with pytest.raises(ValueError, match="does not support `clipnorm`"):
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), clipnorm=1.0)
    with pytest.raises(ValueError, match="does not support arguments: `foo`"):
        keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(), foo=1)
    with pytest.raises(TypeError, match="wraps a `keras.optimizers.Optimizer`"):
        keras.optimizers.LossScaleOptimizer("sgd")
