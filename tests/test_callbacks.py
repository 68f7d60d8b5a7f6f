"""Callbacks driven by a tiny fake model and a loop shaped like `fit`'s."""

import json
import math
import os
import re
import sys
import types

import numpy as np
import pytest
import torch

from tritonlayers import callbacks, metrics, optimizers
from tritonlayers.layers.variables import Variable

ANSI = re.compile(r"\x1b\[[0-9;]*m")


class FakeModel:
    """The parts of `Model` that callbacks touch, with weights in one Variable."""

    def __init__(self, value: float = 0.0):
        self.w = Variable(torch.full((2,), value), name="w")
        self.optimizer = optimizers.SGD(learning_rate=0.1)
        self.stop_training = False
        self.built = True
        self.history = None
        self.metrics = [metrics.BinaryAccuracy(name="acc")]
        self.saved: list[tuple[str, str]] = []

    @property
    def trainable_variables(self):
        return [self.w]

    @property
    def weights(self):
        return [self.w]

    def get_weights(self):
        return [self.w.detach().cpu().numpy().copy()]

    def set_weights(self, weights):
        self.w.assign(torch.as_tensor(weights[0]))

    def save(self, filepath, overwrite=True):
        self.saved.append(("model", filepath))
        with open(filepath, "w") as f:
            json.dump(self.get_weights()[0].tolist(), f)

    def save_weights(self, filepath, overwrite=True):
        self.saved.append(("weights", filepath))
        with open(filepath, "w") as f:
            json.dump(
                {"w": self.get_weights()[0].tolist(), "it": int(self.optimizer.iterations)}, f
            )

    def load_weights(self, filepath):
        with open(filepath) as f:
            state = json.load(f)
        self.set_weights([np.array(state["w"], dtype="float32")])
        self.optimizer.iterations = state["it"]


def run_fit(model, callback_objects, epoch_logs, steps=2, verbose=0, initial_epoch=0):
    """Drive the callbacks like `fit`: the weights become the epoch number each epoch."""
    epochs = len(epoch_logs)
    callback_list = callbacks.CallbackList(
        callback_objects,
        add_history=True,
        add_progbar=verbose != 0,
        model=model,
        verbose=verbose,
        epochs=epochs,
        steps=steps,
    )
    model.stop_training = False
    model._initial_epoch = None
    callback_list.on_train_begin()
    start = model._initial_epoch or initial_epoch
    logs = None
    for epoch in range(start, epochs):
        callback_list.on_epoch_begin(epoch)
        for batch in range(steps):
            callback_list.on_train_batch_begin(batch)
            model.optimizer.iterations.assign_add(1)
            batch_logs = {key: torch.tensor(v) for key, v in epoch_logs[epoch].items()}
            callback_list.on_train_batch_end(
                batch, {k: v for k, v in batch_logs.items() if not k.startswith("val_")}
            )
            if model.stop_training:
                break
        model.set_weights([np.full((2,), float(epoch), dtype="float32")])
        logs = {key: torch.tensor(v) for key, v in epoch_logs[epoch].items()}
        callback_list.on_epoch_end(epoch, logs)
        if model.stop_training:
            break
    callback_list.on_train_end(logs)
    return model.history


def test_history_records_epoch_logs_as_floats():
    model = FakeModel()
    history = run_fit(model, [], [{"loss": 1.0}, {"loss": 0.5}])
    assert history.epoch == [0, 1]
    assert history.history == {"loss": [1.0, 0.5]}
    assert all(type(v) is float for v in history.history["loss"])


def test_history_orders_metrics_by_name_as_keras_does():
    history = run_fit(FakeModel(), [], [{"loss": 1.0, "accuracy": 0.5, "val_loss": 2.0}])
    assert list(history.history) == ["accuracy", "loss", "val_loss"]


def test_callback_list_passes_batch_logs_through_without_reading_them():
    seen = []
    recorder = callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: seen.append(logs))
    loss = torch.tensor(0.25)
    callbacks.CallbackList([recorder]).on_train_batch_end(0, {"loss": loss})
    assert seen[0]["loss"] is loss


def test_callback_list_accepts_a_single_callback_or_a_callback_list():
    history = callbacks.History()
    assert callbacks.CallbackList(history).callbacks == [history]
    assert callbacks.CallbackList(callbacks.CallbackList([history])).callbacks == [history]


def test_callback_list_rejects_non_callbacks():
    with pytest.raises(TypeError, match="must be a `tritonlayers.callbacks.Callback`"):
        callbacks.CallbackList([object()])


def test_early_stopping_stops_after_patience_and_restores_best_weights():
    model = FakeModel()
    losses = [{"val_loss": v} for v in (1.0, 0.5, 0.6, 0.7, 0.8, 0.9)]
    stopper = callbacks.EarlyStopping(patience=2, restore_best_weights=True)
    history = run_fit(model, [stopper], losses)
    assert history.epoch == [0, 1, 2, 3]
    assert stopper.stopped_epoch == 3
    assert model.get_weights()[0].tolist() == [1.0, 1.0]


def test_early_stopping_auto_mode_maximises_metrics_that_go_up():
    model = FakeModel()
    stopper = callbacks.EarlyStopping(monitor="val_acc", patience=1)
    history = run_fit(model, [stopper], [{"val_acc": v} for v in (0.5, 0.6, 0.55, 0.9)])
    assert history.epoch == [0, 1, 2]


def test_early_stopping_auto_mode_refuses_unknown_metric_direction():
    stopper = callbacks.EarlyStopping(monitor="val_mystery")
    with pytest.raises(ValueError, match="Pass `mode='max'`"):
        run_fit(FakeModel(), [stopper], [{"val_mystery": 1.0}])


def test_reduce_lr_on_plateau_multiplies_rate_by_factor():
    model = FakeModel()
    reducer = callbacks.ReduceLROnPlateau(monitor="loss", factor=0.5, patience=1, min_lr=0.02)
    history = run_fit(model, [reducer], [{"loss": 1.0}] * 5)
    assert float(model.optimizer.learning_rate) == pytest.approx(0.02)
    # Each epoch logs the rate it trained with; the reduction applies from the next epoch.
    np.testing.assert_allclose(
        history.history["learning_rate"], [0.1, 0.1, 0.05, 0.025, 0.02], rtol=1e-6
    )


def test_learning_rate_scheduler_sets_rate_each_epoch():
    model = FakeModel()
    scheduler = callbacks.LearningRateScheduler(lambda epoch, lr: 0.1 / (epoch + 1))
    history = run_fit(model, [scheduler], [{"loss": 1.0}] * 3)
    np.testing.assert_allclose(history.history["learning_rate"], [0.1, 0.05, 0.1 / 3], 1e-6)


def test_learning_rate_scheduler_rejects_non_float_output():
    scheduler = callbacks.LearningRateScheduler(lambda epoch: "fast")
    with pytest.raises(ValueError, match="should be a float"):
        run_fit(FakeModel(), [scheduler], [{"loss": 1.0}])


def test_terminate_on_nan_stops_training(capsys):
    model = FakeModel()
    history = run_fit(model, [callbacks.TerminateOnNaN()], [{"loss": 1.0}, {"loss": math.nan}])
    assert history.epoch == [0, 1]
    assert "Batch 0: Invalid loss, terminating training" in capsys.readouterr().out


def test_csv_logger_writes_header_and_rows(tmp_path):
    path = tmp_path / "log.csv"
    run_fit(FakeModel(), [callbacks.CSVLogger(path)], [{"loss": 1.0}, {"loss": 0.5}])
    assert path.read_text().splitlines() == [
        "epoch,loss,val_loss",
        "0,1.0,NA",
        "1,0.5,NA",
    ]


def test_lambda_callback_rejects_unknown_hook_names():
    with pytest.raises(ValueError, match="unknown hook 'on_epoch_ending'"):
        callbacks.LambdaCallback(on_epoch_ending=print)


def test_model_checkpoint_formats_epoch_and_saves_every_epoch(tmp_path):
    model = FakeModel()
    pattern = str(tmp_path / "ckpt-{epoch:02d}-{loss:.2f}.keras")
    run_fit(model, [callbacks.ModelCheckpoint(pattern)], [{"loss": 1.0}, {"loss": 0.5}])
    names = [os.path.basename(path) for kind, path in model.saved]
    assert names == ["ckpt-01-1.00.keras", "ckpt-02-0.50.keras"]


def test_model_checkpoint_save_best_only_saves_on_improvement_only(tmp_path):
    model = FakeModel()
    path = str(tmp_path / "best.weights.safetensors")
    checkpoint = callbacks.ModelCheckpoint(path, save_best_only=True, save_weights_only=True)
    run_fit(model, [checkpoint], [{"val_loss": v} for v in (1.0, 0.5, 0.7, 0.4)])
    assert len(model.saved) == 3
    with open(path) as f:
        assert json.load(f)["w"] == [3.0, 3.0]


def test_model_checkpoint_verbose_messages_match_keras(tmp_path, capsys):
    path = str(tmp_path / "best.keras")
    checkpoint = callbacks.ModelCheckpoint(path, save_best_only=True, verbose=1)
    run_fit(FakeModel(), [checkpoint], [{"val_loss": 0.5}, {"val_loss": 0.7}])
    assert capsys.readouterr().out.split("\n\n") == [
        f"\nEpoch 1: val_loss improved from None to 0.50000, saving model to {path}",
        f"Epoch 1: finished saving model to {path}",
        "Epoch 2: val_loss did not improve from 0.50000\n",
    ]


def test_model_checkpoint_saves_every_n_batches(tmp_path):
    model = FakeModel()
    checkpoint = callbacks.ModelCheckpoint(str(tmp_path / "m.keras"), save_freq=3)
    run_fit(model, [checkpoint], [{"loss": 1.0}] * 3, steps=2)
    assert len(model.saved) == 2


def test_model_checkpoint_checks_the_file_extension():
    with pytest.raises(ValueError, match="must end in `.weights.safetensors`"):
        callbacks.ModelCheckpoint("w.h5", save_weights_only=True)
    with pytest.raises(ValueError, match="must end in `.keras`"):
        callbacks.ModelCheckpoint("model.h5")


class SimulatedCrash(Exception):
    """Stands for the process dying in the middle of an epoch."""


def _crash_at_epoch_2(epoch, logs):
    if epoch == 2:
        raise SimulatedCrash


def test_backup_and_restore_resumes_from_the_last_finished_epoch(tmp_path):
    backup_dir = str(tmp_path / "backup")
    logs = [{"loss": 1.0}] * 4
    interrupted = FakeModel()
    crash = callbacks.LambdaCallback(on_epoch_begin=_crash_at_epoch_2)
    with pytest.raises(SimulatedCrash):
        run_fit(interrupted, [callbacks.BackupAndRestore(backup_dir), crash], logs)
    with open(os.path.join(backup_dir, "training_metadata.json")) as f:
        record = json.load(f)
    assert (record["epoch"], record["batch"], record["previous"]["epoch"]) == (2, 0, 1)
    resumed = FakeModel()
    history = run_fit(resumed, [callbacks.BackupAndRestore(backup_dir)], logs)
    assert history.epoch == [2, 3]
    assert int(resumed.optimizer.iterations) == 8
    assert not os.path.exists(backup_dir)


def test_backup_and_restore_rejects_malformed_metadata(tmp_path):
    os.makedirs(tmp_path / "b")
    (tmp_path / "b" / "training_metadata.json").write_text('{"epoch": "two"}')
    with pytest.raises(ValueError, match='integer "epoch"'):
        run_fit(FakeModel(), [callbacks.BackupAndRestore(str(tmp_path / "b"))], [{"loss": 1.0}])


def test_progbar_verbose_2_prints_one_keras_line_per_epoch(capsys):
    run_fit(FakeModel(), [], [{"loss": 0.07481}, {"loss": 0.000123456}], steps=938, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "Epoch 1/2"
    assert re.fullmatch(r"938/938 - \d+s - \d+(s|ms|us)/step - loss: 0\.0748", lines[1])
    assert lines[2] == "Epoch 2/2"
    assert re.fullmatch(r"938/938 - \d+s - \d+(s|ms|us)/step - loss: 1\.2346e-04", lines[3])


def test_progbar_prints_metrics_in_name_order(capsys):
    run_fit(FakeModel(), [], [{"loss": 0.5, "accuracy": 0.25, "val_loss": 1.0}], verbose=2)
    line = capsys.readouterr().out.splitlines()[-1]
    assert line.endswith("- accuracy: 0.2500 - loss: 0.5000 - val_loss: 1.0000")


def test_progbar_verbose_1_draws_a_live_bar_and_ends_the_line(capsys):
    run_fit(FakeModel(), [], [{"loss": 0.0942}], steps=938, verbose=1)
    out = capsys.readouterr().out
    final = ANSI.sub("", out.split("\r")[-1])
    assert re.fullmatch(r"938/938 ━{20} \d+s \d+(s|ms|us)/step - loss: 0\.0942 *\n", final)
    assert "\x1b[32m" in out and "\x1b[1m938/938\x1b[0m" in out
    assert "Epoch" not in out


def test_progbar_pads_with_spaces_when_the_line_gets_shorter(capsys):
    bar = callbacks.Progbar(target=2, verbose=1, interval=0)
    bar.update(1, [("loss", 12345.0)])
    bar.update(2, [("loss", 1.0)])
    first, second = capsys.readouterr().out.split("\r")[1:]
    assert len(ANSI.sub("", second.rstrip("\n"))) == len(ANSI.sub("", first.rstrip("\x08")))


def test_progbar_reads_device_tensors_only_when_it_draws(monkeypatch, capsys):
    reads = []
    original = torch.Tensor.numpy
    monkeypatch.setattr(torch.Tensor, "numpy", lambda t, *a, **k: reads.append(1) or original(t))
    bar = callbacks.Progbar(target=100, verbose=2)
    for step in range(1, 100):
        bar.update(step, [("loss", torch.tensor(0.5))])
    assert reads == []
    bar.update(100, [("loss", torch.tensor(0.5))])
    assert len(reads) == 1


@pytest.mark.parametrize(
    ("seconds", "text"),
    [(2.4, " 2s/step"), (0.0042, " 4ms/step"), (3.1e-5, " 31us/step"), (0.0, " 0s/step")],
)
def test_time_per_step_units(seconds, text):
    assert callbacks.progbar.format_time_per_unit(seconds) == text


def test_tensorboard_without_the_package_raises_a_clear_import_error(monkeypatch):
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", None)
    with pytest.raises(ImportError, match="pip install tensorboard"):
        callbacks.TensorBoard(log_dir="unused")


def test_tensorboard_writes_epoch_scalars_to_train_and_validation(monkeypatch, tmp_path):
    writes = []

    class RecordingWriter:
        def __init__(self, log_dir):
            self.split = os.path.basename(log_dir)

        def add_scalar(self, tag, value, step):
            writes.append((self.split, tag, round(value, 6), step))

        def add_histogram(self, tag, values, step):
            writes.append((self.split, tag, tuple(values.shape), step))

        def flush(self):
            pass

        def close(self):
            pass

    fake = types.ModuleType("torch.utils.tensorboard")
    fake.SummaryWriter = RecordingWriter
    monkeypatch.setitem(sys.modules, "torch.utils.tensorboard", fake)
    board = callbacks.TensorBoard(log_dir=str(tmp_path), histogram_freq=1)
    run_fit(FakeModel(), [board], [{"loss": 0.5, "val_loss": 0.75}])
    assert ("train", "epoch_loss", 0.5, 0) in writes
    assert ("validation", "epoch_loss", 0.75, 0) in writes
    assert ("train", "epoch_learning_rate", 0.1, 0) in writes
    assert ("train", "w/histogram", (2,), 0) in writes
