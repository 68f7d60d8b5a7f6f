"""Differences found by running the built-in callbacks side by side with Keras 3.15
(`KERAS_BACKEND=torch`) on one tiny model with the same starting weights. Every expected
message and value here was produced by the same hook calls under Keras 3.15."""

import logging
import math
import os

import numpy as np
import pytest

import tritonlayers as keras
from tritonlayers import callbacks


def _model():
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(1)])
    model.compile(keras.optimizers.SGD(0.5), "mse")
    return model


def _epochs(callback, losses):
    callback.on_train_begin()
    for epoch, loss in enumerate(losses):
        callback.on_epoch_begin(epoch)
        callback.on_epoch_end(epoch, {"loss": loss})
    callback.on_train_end()


# Each case drives one callback's hooks; the messages are Keras 3.15's for the same calls.
MESSAGE_CASES = {
    "EarlyStopping": (
        lambda: callbacks.EarlyStopping(monitor="loss", verbose=1, restore_best_weights=True),
        lambda cb: _epochs(cb, [1.0, 2.0]),
        ["Epoch 2: early stopping", "Restoring model weights from the end of the best epoch: 1."],
    ),
    "ReduceLROnPlateau": (
        lambda: callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=0, verbose=1),
        lambda cb: _epochs(cb, [1.0, 2.0]),
        ["\nEpoch 2: ReduceLROnPlateau reducing learning rate to 0.25."],
    ),
    "LearningRateScheduler": (
        lambda: callbacks.LearningRateScheduler(lambda epoch, lr: 0.125, verbose=1),
        lambda cb: cb.on_epoch_begin(0),
        ["\nEpoch 1: LearningRateScheduler setting learning rate to 0.125."],
    ),
    "ModelCheckpoint": (
        lambda: callbacks.ModelCheckpoint(
            "m.keras", monitor="loss", save_best_only=True, verbose=1
        ),
        lambda cb: _epochs(cb, [1.0, 2.0]),
        [
            "\nEpoch 1: loss improved from None to 1.00000, saving model to m.keras",
            "\nEpoch 1: finished saving model to m.keras",
            "\nEpoch 2: loss did not improve from 1.00000",
        ],
    ),
    "TerminateOnNaN": (
        callbacks.TerminateOnNaN,
        lambda cb: cb.on_batch_end(3, {"loss": math.nan}),
        ["Batch 3: Invalid loss, terminating training"],
    ),
}


@pytest.mark.parametrize("name", list(MESSAGE_CASES))
def test_callback_messages_follow_disable_interactive_logging(
    name, tmp_path, monkeypatch, capsys, caplog
):
    # Keras 3.15 writes these through `io_utils.print_msg`: to the logger, not stdout, once
    # interactive logging is off. Text checked against Keras 3.15.
    make, drive, expected = MESSAGE_CASES[name]
    monkeypatch.chdir(tmp_path)
    callback = make()
    callback.set_model(_model())
    keras.utils.disable_interactive_logging()
    try:
        with caplog.at_level(logging.INFO, logger="tritonlayers"):
            drive(callback)
    finally:
        keras.utils.enable_interactive_logging()
    assert capsys.readouterr().out == ""
    assert [record.getMessage() for record in caplog.records] == expected


@pytest.mark.parametrize(
    "filepath, logs, reason",
    [
        ("x{foo}.keras", {"loss": 1.0}, "'foo'"),
        ("m{epoch:02d}-{val_loss:.2f}.keras", {"loss": 1.0}, "'val_loss'"),
    ],
)
def test_checkpoint_filepath_format_error_starts_as_in_keras(tmp_path, filepath, logs, reason):
    # Keras 3.15: KeyError('Failed to format this callback filepath: "<path>". Reason: <key>')
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / filepath))
    checkpoint.set_model(_model())
    with pytest.raises(KeyError) as error:
        checkpoint.on_epoch_end(0, logs)
    expected = f'Failed to format this callback filepath: "{tmp_path / filepath}". Reason: {reason}'
    assert error.value.args[0].startswith(expected)


@pytest.mark.parametrize(
    "value, shown",
    [
        (np.array([0.5, 0.25], "float32"), "[0.5  0.25]"),
        (np.array([1.0, 0.0, 0.5], "float32"), "[1.  0.  0.5]"),
    ],
)
def test_checkpoint_saves_anyway_when_the_best_only_monitor_is_a_vector(
    tmp_path, monkeypatch, capsys, value, shown
):
    # Keras 3.15 warns and falls back to save_best_only=False for a non-scalar monitor
    # (F1Score(average=None)); both texts checked against Keras 3.15.
    monkeypatch.chdir(tmp_path)
    checkpoint = callbacks.ModelCheckpoint(
        "v{epoch}.keras", monitor="f1_score", mode="max", save_best_only=True, verbose=1
    )
    checkpoint.set_model(_model())
    with pytest.warns(UserWarning) as record:
        checkpoint.on_epoch_end(0, {"f1_score": value})
    assert [str(w.message) for w in record if "monitor" in str(w.message)] == [
        f"Can save best model only when `monitor` is a scalar value. Received: {shown}. "
        "Falling back to `save_best_only=False`."
    ]
    assert sorted(os.listdir(tmp_path)) == ["v1.keras"]
    assert capsys.readouterr().out == "\nEpoch 1: finished saving model to v1.keras\n"


@pytest.mark.parametrize("verbose, printed", [(0, ""), (1, "\nEpoch 1: saving model to d.keras\n")])
def test_checkpoint_into_an_existing_directory_says_so(
    tmp_path, monkeypatch, capsys, verbose, printed
):
    # Keras 3.15: OSError with this text, after the "saving model" line.
    monkeypatch.chdir(tmp_path)
    os.mkdir("d.keras")
    checkpoint = callbacks.ModelCheckpoint("d.keras", verbose=verbose)
    checkpoint.set_model(_model())
    with pytest.raises(OSError) as error:
        checkpoint.on_epoch_end(0, {"loss": 1.0})
    assert str(error.value) == (
        "Please specify a non-directory filepath for ModelCheckpoint. "
        "Filepath used is an existing directory: d.keras"
    )
    assert capsys.readouterr().out == printed
