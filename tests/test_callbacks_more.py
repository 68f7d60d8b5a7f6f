"""SwapEMAWeights against moving averages recomputed in float64, and RemoteMonitor against a
local `http.server` run in a thread."""

import http.server
import json
import socket
import threading
import urllib.parse
import warnings

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import callbacks

RNG = np.random.default_rng(3)
X = RNG.normal(size=(16, 3)).astype("float32")
Y = RNG.normal(size=(16, 1)).astype("float32")
MOMENTUM = 0.5


def _model(use_ema: bool = True):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    optimizer = keras.optimizers.SGD(0.1, use_ema=use_ema, ema_momentum=MOMENTUM)
    model.compile(optimizer=optimizer, loss="mse")
    return model


def _ema(history: list[list[np.ndarray]]) -> list[np.ndarray]:
    """Keras's moving average of the weights after each step (the first step copies)."""
    average = [w.astype("float64") for w in history[0]]
    for weights in history[1:]:
        average = [MOMENTUM * a + (1 - MOMENTUM) * w for a, w in zip(average, weights)]
    return average


def _trained_twice(model):
    """Two steps with `train_on_batch` (which, unlike `fit`, leaves the averages apart)."""
    history = []
    for _ in range(2):
        model.train_on_batch(X, Y)
        history.append(model.get_weights())
    return history


def _assert_weights_equal(actual, expected, atol=1e-6):
    for a, e in zip(actual, expected):
        np.testing.assert_allclose(a, e, atol=atol)


# ------------------------------------------------------------------------ SwapEMAWeights


def test_swap_ema_weights_evaluates_with_the_moving_averages():
    model = _model()
    history = _trained_twice(model)
    kernel, bias = _ema(history)
    loss = model.evaluate(X, Y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    expected = np.mean((X.astype("float64") @ kernel + bias - Y) ** 2)
    assert loss == pytest.approx(expected, rel=1e-5)


def test_swap_ema_weights_restores_the_weights_after_evaluate():
    model = _model()
    history = _trained_twice(model)
    model.evaluate(X, Y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    _assert_weights_equal(model.get_weights(), history[-1])


def test_swap_ema_weights_predicts_with_the_averages_and_swaps_back():
    # Keras 3.15's on_predict_end never swaps back (its condition is inverted); here it does.
    model = _model()
    history = _trained_twice(model)
    kernel, bias = _ema(history)
    predictions = model.predict(X, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    np.testing.assert_allclose(predictions, X.astype("float64") @ kernel + bias, atol=1e-5)
    _assert_weights_equal(model.get_weights(), history[-1])


class _WeightRecorder(callbacks.Callback):
    """Records the model's weights after each batch, at each epoch end and at each epoch's
    first batch."""

    def __init__(self):
        super().__init__()
        self.after_batch, self.epoch_end, self.epoch_start = [], [], []

    def on_train_batch_begin(self, batch, logs=None):
        if batch == 0:
            self.epoch_start.append(self.model.get_weights())

    def on_train_batch_end(self, batch, logs=None):
        self.after_batch.append(self.model.get_weights())

    def on_epoch_end(self, epoch, logs=None):
        self.epoch_end.append(self.model.get_weights())


def test_swap_on_epoch_shows_later_callbacks_the_averages_between_epochs():
    model = _model()
    recorder = _WeightRecorder()
    swap = callbacks.SwapEMAWeights(swap_on_epoch=True)
    model.fit(X, Y, epochs=2, batch_size=8, shuffle=False, verbose=0, callbacks=[swap, recorder])
    steps = recorder.after_batch
    _assert_weights_equal(recorder.epoch_end[0], _ema(steps[:2]))
    # The next epoch starts from the trained weights, not from the averages.
    _assert_weights_equal(recorder.epoch_start[1], steps[1])
    _assert_weights_equal(recorder.epoch_end[1], _ema(steps))
    # At the end of fit the model keeps the averages, as without the callback.
    _assert_weights_equal(model.get_weights(), _ema(steps))


def test_swap_ema_weights_validates_with_the_averages_during_fit():
    model = _model()
    recorder = _WeightRecorder()
    swap = callbacks.SwapEMAWeights()
    fitted = model.fit(
        X,
        Y,
        epochs=1,
        batch_size=8,
        shuffle=False,
        verbose=0,
        validation_data=(X, Y),
        callbacks=[swap, recorder],
    )
    kernel, bias = _ema(recorder.after_batch)
    expected = np.mean((X.astype("float64") @ kernel + bias - Y) ** 2)
    assert fitted.history["val_loss"][0] == pytest.approx(expected, rel=1e-5)
    # Back to the trained weights once validation is over.
    _assert_weights_equal(recorder.epoch_end[0], recorder.after_batch[-1])


def test_swap_ema_weights_needs_use_ema():
    model = _model(use_ema=False)
    model.train_on_batch(X, Y)
    with pytest.raises(ValueError, match="`use_ema=True` is set on the optimizer"):
        model.evaluate(X, Y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])


def test_swap_ema_weights_needs_a_built_optimizer():
    # `evaluate` builds the compiled optimizer first (as Keras 3.15 does); `predict` does not.
    model = _model()
    with pytest.raises(ValueError, match="the optimizer has not been built"):
        model.predict(X, verbose=0, callbacks=[callbacks.SwapEMAWeights()])


def test_swap_ema_weights_reaches_through_a_loss_scale_optimizer():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    inner = keras.optimizers.SGD(0.1, use_ema=True, ema_momentum=MOMENTUM)
    model.compile(optimizer=keras.optimizers.LossScaleOptimizer(inner), loss="mse")
    history = _trained_twice(model)
    kernel, bias = _ema(history)
    loss = model.evaluate(X, Y, verbose=0, callbacks=[callbacks.SwapEMAWeights()])
    assert loss == pytest.approx(np.mean((X @ kernel + bias - Y) ** 2), rel=1e-5)


# ------------------------------------------------------------------------- RemoteMonitor


class _Recorder(http.server.BaseHTTPRequestHandler):
    """Stores each POST (path, headers, body) on the server and answers `server.status`."""

    def do_POST(self):  # noqa: N802 (the name http.server dispatches to)
        body = self.rfile.read(int(self.headers["Content-Length"]))
        self.server.requests.append((self.path, dict(self.headers), body.decode()))
        self.send_response(self.server.status)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def server():
    httpd = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    httpd.requests, httpd.status = [], 200
    thread = threading.Thread(target=httpd.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    httpd.root = f"http://127.0.0.1:{httpd.server_address[1]}"
    yield httpd
    httpd.shutdown()
    httpd.server_close()
    thread.join()


def _closed_port_root() -> str:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    return f"http://127.0.0.1:{port}"


def test_remote_monitor_posts_logs_as_a_form_field(server):
    monitor = callbacks.RemoteMonitor(root=server.root)
    monitor.on_epoch_end(3, {"loss": 0.25, "acc": np.float32(0.5), "mae": torch.tensor(1.5)})
    [(path, headers, body)] = server.requests
    assert path == "/publish/epoch/end/"
    assert headers["Content-Type"] == "application/x-www-form-urlencoded"
    form = urllib.parse.parse_qs(body)
    assert json.loads(form["data"][0]) == {"epoch": 3, "loss": 0.25, "acc": 0.5, "mae": 1.5}


def test_remote_monitor_uses_the_given_path_and_field(server):
    monitor = callbacks.RemoteMonitor(root=server.root, path="/events", field="payload")
    monitor.on_epoch_end(0, {"loss": 1.0})
    [(path, _, body)] = server.requests
    assert path == "/events"
    assert json.loads(urllib.parse.parse_qs(body)["payload"][0]) == {"epoch": 0, "loss": 1.0}


def test_remote_monitor_sends_json_with_custom_headers(server):
    monitor = callbacks.RemoteMonitor(
        root=server.root, headers={"X-Run": "seven"}, send_as_json=True
    )
    monitor.on_epoch_end(1, {"val_loss": 0.125})
    [(_, headers, body)] = server.requests
    assert headers["Content-Type"] == "application/json"
    assert headers["X-Run"] == "seven"
    assert json.loads(body) == {"epoch": 1, "val_loss": 0.125}


def test_remote_monitor_posts_once_per_epoch_during_fit(server):
    model = _model(use_ema=False)
    model.fit(X, Y, epochs=2, verbose=0, callbacks=[callbacks.RemoteMonitor(root=server.root)])
    events = [json.loads(urllib.parse.parse_qs(body)["data"][0]) for _, _, body in server.requests]
    assert [event["epoch"] for event in events] == [0, 1]
    assert all(isinstance(event["loss"], float) for event in events)


def test_remote_monitor_warns_when_the_server_is_unreachable():
    root = _closed_port_root()
    monitor = callbacks.RemoteMonitor(root=root)
    with pytest.warns(UserWarning, match=f"Could not reach RemoteMonitor root server at {root}"):
        monitor.on_epoch_end(0, {"loss": 0.5})


def test_remote_monitor_lets_fit_finish_without_a_server():
    model = _model(use_ema=False)
    monitor = callbacks.RemoteMonitor(root=_closed_port_root())
    with pytest.warns(UserWarning, match="Could not reach RemoteMonitor") as caught:
        fitted = model.fit(X, Y, epochs=2, verbose=0, callbacks=[monitor])
    assert len(fitted.history["loss"]) == 2
    assert sum("Could not reach" in str(w.message) for w in caught) == 2


def test_remote_monitor_accepts_an_error_status_without_warning(server):
    server.status = 404
    monitor = callbacks.RemoteMonitor(root=server.root)
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        monitor.on_epoch_end(0, {"loss": 0.5})
    assert len(server.requests) == 1
