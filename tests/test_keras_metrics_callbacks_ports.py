"""Keras 3.15 programs that name metrics, losses and callbacks in `compile`/`fit`, ported by
changing the import only. Every expected value (log names, numbers, stop epochs, learning
rates, messages, file names and CSV contents) was produced by the same program under Keras
3.15 with `KERAS_BACKEND=torch`."""

import contextlib
import io
import os
import warnings

import numpy as np
import pytest

import tritonlayers as keras

_RNG = np.random.RandomState(0)
X = _RNG.rand(32, 4).astype("float32")
Y = (X.sum(1, keepdims=True) > 2).astype("float32")
VALIDATION = (X[:16], Y[:16])


def _model(learning_rate: float = 0.1, metrics=("acc",)):
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, activation="sigmoid")])
    model.set_weights([np.linspace(-1, 1, 4).reshape(4, 1).astype("float32"), np.zeros(1, "f")])
    model.compile(keras.optimizers.SGD(learning_rate), "binary_crossentropy", metrics=list(metrics))
    return model


def _fit(model, callbacks, epochs, validation=True, **kwargs):
    output = io.StringIO()
    with contextlib.redirect_stdout(output):
        history = model.fit(
            X,
            Y,
            epochs=epochs,
            batch_size=8,
            shuffle=False,
            verbose=0,
            validation_data=VALIDATION if validation else None,
            callbacks=callbacks,
            **kwargs,
        )
    return history, output.getvalue()


@pytest.mark.parametrize(
    "identifier, value",
    [
        ("acc", 0.5),
        ("accuracy", 0.5),
        ("AUC", 0.6131),
        ("auc", 0.6131),
        ("mae", 0.48138),
        ("precision", 0.42857),
        ("recall", 0.42857),
        ("binary_crossentropy", 0.6747),
    ],
)
def test_metric_string_logs_under_the_string_given(identifier, value):
    # Keras 3.15: each string is its own log key with these epoch-1 values.
    history, _ = _fit(_model(metrics=[identifier]), [], epochs=1, validation=False)
    assert sorted(history.history) == sorted(["loss", identifier])
    np.testing.assert_allclose(history.history[identifier][0], value, atol=1e-4)
    np.testing.assert_allclose(history.history["loss"][0], 0.67470, atol=1e-4)


def test_sequential_metrics_dict_keyed_by_last_layer_name():
    # Keras 3.15 accepts `metrics={"<last layer>": ...}` for a Sequential model.
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, name="head")])
    model.compile("sgd", loss={"head": "mse"}, metrics={"head": ["mae", "mse"]})
    history, _ = _fit(model, [], epochs=1, validation=False)
    assert sorted(history.history) == ["loss", "mae", "mse"]
    assert model.output_names == ["head"]


def test_sequential_metrics_dict_with_unknown_key_names_the_last_layer():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1, name="head")])
    model.compile("sgd", "mse", metrics={"hed": "mae"})
    with pytest.raises(ValueError, match=r"key\(s\) \['hed'\].*Expected keys among \['head'\]"):
        _fit(model, [], epochs=1, validation=False)


def test_early_stopping_min_delta_patience_epoch_and_message():
    stopper = keras.callbacks.EarlyStopping(
        monitor="val_loss", patience=1, min_delta=0.05, verbose=1
    )
    history, printed = _fit(_model(), [stopper], epochs=8)
    assert len(history.history["loss"]) == 2
    assert printed.strip() == "Epoch 2: early stopping"


def test_early_stopping_start_from_epoch_delays_the_stop():
    stopper = keras.callbacks.EarlyStopping(
        monitor="loss", min_delta=0.5, patience=0, start_from_epoch=3, verbose=1
    )
    history, printed = _fit(_model(), [stopper], epochs=8)
    assert len(history.history["loss"]) == 5
    assert printed.strip() == "Epoch 5: early stopping"


def test_early_stopping_restores_best_weights_when_baseline_never_reached():
    stopper = keras.callbacks.EarlyStopping(
        monitor="val_acc", baseline=0.99, patience=2, restore_best_weights=True, verbose=1
    )
    model = _model()
    history, printed = _fit(model, [stopper], epochs=5)
    assert len(history.history["loss"]) == 2
    assert [line for line in printed.splitlines() if line] == [
        "Epoch 2: early stopping",
        "Restoring model weights from the end of the best epoch: 1.",
    ]
    np.testing.assert_allclose(
        model.get_weights()[0].ravel(), [-0.9804, -0.3278, 0.3543, 1.0149], atol=1e-4
    )


def test_reduce_lr_on_plateau_learning_rate_sequence_and_messages():
    reducer = keras.callbacks.ReduceLROnPlateau(
        monitor="loss", factor=0.5, patience=1, min_delta=0.05, cooldown=1, min_lr=0.02, verbose=1
    )
    history, printed = _fit(_model(), [reducer], epochs=12)
    np.testing.assert_allclose(
        history.history["learning_rate"], [0.1, 0.1, 0.05, 0.025] + [0.02] * 8, rtol=1e-6
    )
    assert [line for line in printed.splitlines() if line] == [
        "Epoch 2: ReduceLROnPlateau reducing learning rate to 0.05000000074505806.",
        "Epoch 3: ReduceLROnPlateau reducing learning rate to 0.02500000037252903.",
        "Epoch 4: ReduceLROnPlateau reducing learning rate to 0.02.",
    ]


def test_model_checkpoint_filepath_template_names_each_epoch(tmp_path):
    template = str(tmp_path / "ckpt-{epoch:02d}-{val_loss:.2f}.keras")
    _fit(_model(), [keras.callbacks.ModelCheckpoint(template)], epochs=2)
    assert sorted(os.listdir(tmp_path)) == ["ckpt-01-0.64.keras", "ckpt-02-0.64.keras"]


def test_model_checkpoint_integer_save_freq_formats_epoch_and_batch(tmp_path):
    template = str(tmp_path / "f-{epoch}-{batch}.weights.safetensors")
    checkpoint = keras.callbacks.ModelCheckpoint(template, save_weights_only=True, save_freq=3)
    _fit(_model(), [checkpoint], epochs=2)
    # 4 batches per epoch: the 3rd and the 6th batch (2nd of epoch 2) are saved.
    assert sorted(os.listdir(tmp_path)) == [
        "f-1-3.weights.safetensors",
        "f-2-2.weights.safetensors",
    ]


def test_model_checkpoint_save_best_only_without_monitor_saves_with_warning(tmp_path):
    # Keras 3.15 warns and falls back to saving when the monitored value is missing.
    path = str(tmp_path / "b.keras")
    checkpoint = keras.callbacks.ModelCheckpoint(path, save_best_only=True, monitor="val_loss")
    with pytest.warns(UserWarning, match="Can save best model only with val_loss available"):
        _fit(_model(), [checkpoint], epochs=1, validation=False)
    assert os.path.exists(path)


def test_model_checkpoint_bad_save_freq_error_wording(tmp_path):
    with pytest.raises(ValueError, match="Expected save_freq are 'epoch' or integer values"):
        keras.callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq="batch")


def test_csv_logger_append_writes_header_once_and_na_for_missing(tmp_path):
    path = str(tmp_path / "log.csv")
    _fit(_model(), [keras.callbacks.CSVLogger(path, append=True)], epochs=2, validation_freq=2)
    _fit(_model(), [keras.callbacks.CSVLogger(path, append=True, separator=";")], epochs=1)
    with open(path) as file:
        lines = file.read().splitlines()
    assert lines[0] == "epoch,acc,loss,val_acc,val_loss"
    assert lines[1].startswith("0,0.5,0.6747") and lines[1].endswith(",NA,NA")
    assert lines[2].split(",")[3] == "0.5625"
    assert lines[3].startswith("0;0.5;0.6747") and len(lines) == 4


def test_lambda_callback_receives_epoch_and_batch_logs():
    events = []
    callback = keras.callbacks.LambdaCallback(
        on_train_begin=lambda logs: events.append(("begin", logs)),
        on_batch_end=lambda batch, logs: events.append((batch, sorted(logs))),
        on_epoch_end=lambda epoch, logs: events.append(("epoch", epoch, sorted(logs))),
    )
    _fit(_model(), [callback], epochs=1)
    assert events[0] == ("begin", {})
    assert events[1:5] == [(b, ["acc", "loss"]) for b in range(4)]
    assert events[-1] == ("epoch", 0, ["acc", "loss", "val_acc", "val_loss"])


def test_terminate_on_nan_stops_at_the_nan_batch():
    inputs = X.copy()
    inputs[9] = np.nan
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse", metrics=["mae"])
    output = io.StringIO()
    with contextlib.redirect_stdout(output), warnings.catch_warnings():
        warnings.simplefilter("ignore")
        history = model.fit(
            inputs,
            Y,
            epochs=3,
            batch_size=8,
            shuffle=False,
            verbose=0,
            callbacks=[keras.callbacks.TerminateOnNaN()],
        )
    assert output.getvalue() == "Batch 1: Invalid loss, terminating training\n"
    assert len(history.history["loss"]) == 1 and model.stop_training


class _ScaledAbsoluteError(keras.losses.Loss):
    def __init__(self, scale: float = 1.0, **kwargs):
        super().__init__(**kwargs)
        self.scale = scale

    def call(self, y_true, y_pred):
        return self.scale * keras.ops.mean(keras.ops.abs(y_true - y_pred), axis=-1)

    def get_config(self):
        return {**super().get_config(), "scale": self.scale}


class _MeanPrediction(keras.metrics.Metric):
    def __init__(self, name: str = "mean_prediction", **kwargs):
        super().__init__(name=name, **kwargs)
        self.total = self.add_variable(shape=(), initializer="zeros", name="total")
        self.count = self.add_variable(shape=(), initializer="zeros", name="count")

    def update_state(self, y_true, y_pred, sample_weight=None):
        self.total.assign_add(keras.ops.sum(y_pred))
        self.count.assign_add(keras.ops.cast(keras.ops.shape(y_pred)[0], "float32"))

    def result(self):
        return self.total / self.count


def test_loss_subclass_sum_reduction_and_custom_metric_in_fit():
    rng = np.random.RandomState(0)
    inputs, targets = rng.rand(16, 4).astype("float32"), rng.rand(16, 2).astype("float32")
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(2)])
    model.set_weights([np.linspace(-1, 1, 8).reshape(4, 2).astype("float32"), np.zeros(2, "f")])
    loss = _ScaledAbsoluteError(reduction="sum", scale=2.0)
    model.compile("sgd", loss, metrics=[_MeanPrediction(name="cnt")])
    history = model.fit(
        inputs,
        targets,
        sample_weight=np.linspace(0, 1, 16),
        epochs=2,
        batch_size=8,
        shuffle=False,
        verbose=0,
    )
    np.testing.assert_allclose(history.history["loss"], [4.9002, 4.3585], atol=1e-4)
    np.testing.assert_allclose(history.history["cnt"], [-0.0938, 0.0912], atol=1e-4)
    np.testing.assert_allclose(
        model.evaluate(inputs, targets, verbose=0), [16.039505, 0.279431], atol=1e-4
    )
    assert _ScaledAbsoluteError.from_config(loss.get_config()).reduction == "sum"


def test_auc_pr_multi_label_keeps_custom_name_and_value():
    rng = np.random.RandomState(1)
    y_true, y_pred = (rng.rand(12, 3) > 0.5).astype("f"), rng.rand(12, 3).astype("f")
    metric = keras.metrics.AUC(curve="PR", multi_label=True, num_labels=3, name="pr_auc")
    metric.update_state(y_true, y_pred)
    assert metric.name == "pr_auc"
    np.testing.assert_allclose(float(metric.result()), 0.451734, atol=1e-5)
    weighted = keras.metrics.AUC(
        curve="PR", multi_label=True, num_labels=3, label_weights=[1.0, 2.0, 0.0]
    )
    weighted.update_state(y_true, y_pred)
    np.testing.assert_allclose(float(weighted.result()), 0.327433, atol=1e-5)
