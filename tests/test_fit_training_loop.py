"""The training step: total loss, the training flag, progress lines, callbacks, jit_compile."""

import re

import numpy as np
import pytest
import torch

import tritonlayers as keras


class Probe(keras.Layer):
    """Records the training flag of every call."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, inputs, training=None):
        self.seen.append(training)
        return inputs


class ConstantPenalty(keras.Layer):
    """Adds `value` to the model's losses on every call."""

    def __init__(self, value, **kwargs):
        super().__init__(**kwargs)
        self.value = value

    def call(self, inputs):
        self.add_loss(keras.ops.sum(inputs) * 0.0 + self.value)
        return inputs


def test_total_loss_is_compiled_loss_plus_added_losses():
    x = keras.Input(shape=(2,))
    model = keras.Model(
        x, ConstantPenalty(0.25)(keras.layers.Dense(1, kernel_initializer="zeros")(x))
    )
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    loss = model.evaluate(np.ones((4, 2)), np.full((4, 1), 2.0), verbose=0)
    assert loss == pytest.approx(4.0 + 0.25)


def test_weight_regularization_penalties_join_the_loss():
    model = keras.Sequential(
        [
            keras.Input((2,)),
            keras.layers.Dense(
                1, kernel_initializer="ones", kernel_regularizer=keras.regularizers.L2(0.5)
            ),
        ]
    )
    model.compile(optimizer="sgd", loss="mse")
    loss = model.evaluate(np.zeros((3, 2)), np.zeros((3, 1)), verbose=0)
    assert loss == pytest.approx(0.5 * 2.0)


def test_add_loss_alone_trains_without_a_compiled_loss():
    class Shrink(keras.Layer):
        def build(self, input_shape):
            self.w = self.add_weight(shape=(), initializer="ones")

        def call(self, inputs):
            self.add_loss(keras.ops.square(self.w))
            return inputs * self.w

    x = keras.Input(shape=(1,))
    model = keras.Model(x, Shrink()(x))
    model.compile(optimizer=keras.optimizers.SGD(0.1))
    history = model.fit(np.ones((4, 1)), np.ones((4, 1)), epochs=3, verbose=0)
    assert history.history["loss"] == pytest.approx([1.0, 0.64, 0.4096], rel=1e-5)


def test_training_flag_is_true_in_fit_and_false_in_evaluate_and_predict():
    probe = Probe()
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1), probe])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2)), np.ones((4, 1))
    model.fit(x, y, batch_size=4, verbose=0)
    assert probe.seen[-1] is True
    model.evaluate(x, y, verbose=0)
    assert probe.seen[-1] is False
    model.predict(x, verbose=0)
    assert probe.seen[-1] is False


def test_validation_inside_fit_runs_with_training_false():
    probe = Probe()
    model = keras.Sequential([keras.Input((2,)), probe, keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    x, y = np.ones((4, 2)), np.ones((4, 1))
    model.fit(x, y, batch_size=4, validation_data=(x, y), verbose=0)
    assert probe.seen[-2:] == [True, False]


def test_verbose_2_prints_one_keras_line_per_epoch(capsys):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=4, epochs=2, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(r"2/2 - \d+s - \d+(ms|us|s)/step - loss: -?\d+\.\d{4}(e[-+]\d+)?", lines[1])


def test_verbose_1_draws_the_progress_bar(capsys):
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((8, 2)), np.ones((8, 1)), batch_size=4, epochs=1, verbose=1)
    out = capsys.readouterr().out
    assert "2/2" in out and "━━━━━━━━━━━━━━━━━━━━" in out and "loss:" in out


def test_early_stopping_sets_stop_training_and_ends_fit():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    stopper = keras.callbacks.EarlyStopping(monitor="loss", patience=1)
    history = model.fit(np.ones((4, 2)), np.ones((4, 1)), epochs=20, verbose=0, callbacks=[stopper])
    assert model.stop_training
    assert len(history.epoch) == 2


def test_model_history_is_the_returned_history():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    history = model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0)
    assert model.history is history


def test_batch_logs_hold_device_tensors_until_printed():
    seen = []
    callback = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs))
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(optimizer="sgd", loss="mse")
    model.fit(np.ones((4, 2)), np.ones((4, 1)), verbose=0, callbacks=[callback])
    assert isinstance(seen[0]["loss"], torch.Tensor)


def test_model_without_trainable_weights_warns_and_still_reports_loss():
    x = keras.Input(shape=(2,))
    model = keras.Model(x, Probe()(x))
    model.compile(optimizer="adam", loss="mse")
    with pytest.warns(UserWarning, match="does not have any trainable weights"):
        history = model.fit(np.ones((2, 2)), np.zeros((2, 2)), verbose=0)
    assert history.history["loss"] == [1.0]


def test_jit_compile_traces_a_model_of_built_in_layers_without_graph_breaks():
    torch._dynamo.reset()
    model = keras.Sequential(
        [keras.Input((4,)), keras.layers.Dense(8, activation="relu"), keras.layers.Dense(1)]
    )
    model.compile(optimizer="adam", loss="mse", jit_compile=True)
    x, y = torch.randn(16, 4), torch.randn(16, 1)
    model._prepare_training()
    explanation = torch._dynamo.explain(model._forward_and_loss)(x, y, None)
    assert explanation.graph_break_count == 0
    assert explanation.graph_count == 1


@pytest.mark.slow
def test_jit_compile_fit_matches_eager_fit():
    def trained(jit):
        torch.manual_seed(0)
        model = keras.Sequential(
            [keras.Input((3,)), keras.layers.Dense(2, activation="relu"), keras.layers.Dense(1)]
        )
        model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", jit_compile=jit)
        x = np.random.default_rng(0).normal(size=(32, 3)).astype("float32")
        model.fit(x, x[:, :1] * 2, batch_size=32, epochs=3, shuffle=False, verbose=0)
        return model.get_weights()

    torch._dynamo.reset()
    for eager, compiled in zip(trained(False), trained(True)):
        np.testing.assert_allclose(compiled, eager, rtol=1e-5, atol=1e-6)


def test_no_autograd_graph_outlives_a_training_step_in_the_compiled_loss():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(2)])
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 3), "float32")
    model.fit(x, np.zeros((4, 2), "float32"), batch_size=4, verbose=0)
    (loss,) = model._compile_loss.per_output
    assert loss.grad_fn is None
