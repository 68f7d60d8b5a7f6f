"""fit's CUDA-graph training step (jit_compile="auto" on CUDA) against the eager step."""

import warnings

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers.models.cuda_graphs import WARMUP_STEPS, GraphedTrainStep

pytestmark = pytest.mark.gpu


def _trained(jit_compile, metrics=None):
    torch.manual_seed(0)
    model = keras.Sequential(
        [keras.Input((6,)), keras.layers.Dense(16, activation="relu"), keras.layers.Dense(2)]
    )
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2), loss="mse", metrics=metrics, jit_compile=jit_compile
    )
    rng = np.random.default_rng(0)
    x = rng.normal(size=(70, 6)).astype("float32")
    y = np.stack([x[:, 0] * 2, x[:, 1] - x[:, 2]], axis=1)
    history = model.fit(x, y, batch_size=8, epochs=3, shuffle=False, verbose=0)
    return model, history


def test_graph_replays_train_like_the_eager_step():
    eager, eager_history = _trained(False, metrics=["mae"])
    graphed, graphed_history = _trained("auto", metrics=["mae"])
    for a, b in zip(graphed.get_weights(), eager.get_weights()):
        np.testing.assert_allclose(a, b, rtol=1e-4, atol=1e-5)
    np.testing.assert_allclose(
        graphed_history.history["loss"], eager_history.history["loss"], rtol=1e-4
    )
    np.testing.assert_allclose(
        graphed_history.history["mae"], eager_history.history["mae"], rtol=1e-4
    )
    assert int(graphed.optimizer.iterations.numpy()) == 27


def test_step_is_captured_after_the_warmup_steps():
    model, _ = _trained(False)
    step = GraphedTrainStep(model)
    x, y = torch.randn(8, 6, device="cuda"), torch.randn(8, 2, device="cuda")
    for _ in range(WARMUP_STEPS + 1):
        step(x, y, None)
    assert step.graph is not None and not step.failed


def test_guide_vae_step_is_captured_and_trains():
    from tritonlayers.examples import vae as vae_example

    x = vae_example.synthetic_digits(512).reshape(512, 784).astype("float32") / 255
    vae = vae_example.VariationalAutoEncoder(784, 64, 32)
    vae.compile(keras.optimizers.Adam(1e-3), loss=keras.losses.MeanSquaredError())
    with warnings.catch_warnings():
        warnings.filterwarnings("error", message=".*could not capture the training step")
        losses = vae.fit(x, x, epochs=3, batch_size=64, verbose=0).history["loss"]
    assert losses[-1] < 0.8 * losses[0]
