"""fit / evaluate / predict: Keras 3 signatures, History, validation, weights, data kinds."""

import inspect

import numpy as np
import pytest
import torch

import tritonlayers as keras


def _linear_data(n=64, seed=0):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, 3)).astype("float32")
    y = x @ np.array([[1.0], [-2.0], [0.5]], dtype="float32") + 0.3
    return x, y


def _model(**compile_kwargs):
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    compile_kwargs.setdefault("optimizer", keras.optimizers.SGD(0.1))
    compile_kwargs.setdefault("loss", "mse")
    model.compile(**compile_kwargs)
    return model


def _params(fn):
    return [
        (p.name, p.default)
        for p in inspect.signature(fn).parameters.values()
        if p.kind is not p.VAR_KEYWORD
    ]


def test_fit_signature_is_keras_3():
    assert _params(keras.Model.fit) == [
        ("self", inspect.Parameter.empty),
        ("x", None),
        ("y", None),
        ("batch_size", None),
        ("epochs", 1),
        ("verbose", "auto"),
        ("callbacks", None),
        ("validation_split", 0.0),
        ("validation_data", None),
        ("shuffle", True),
        ("class_weight", None),
        ("sample_weight", None),
        ("initial_epoch", 0),
        ("steps_per_epoch", None),
        ("validation_steps", None),
        ("validation_batch_size", None),
        ("validation_freq", 1),
    ]


def test_compile_evaluate_predict_signatures_are_keras_3():
    assert _params(keras.Model.compile)[1:5] == [
        ("optimizer", "rmsprop"),
        ("loss", None),
        ("loss_weights", None),
        ("metrics", None),
    ]
    assert ("jit_compile", "auto") in _params(keras.Model.compile)
    assert ("steps_per_execution", 1) in _params(keras.Model.compile)
    assert _params(keras.Model.evaluate)[1:] == [
        ("x", None),
        ("y", None),
        ("batch_size", None),
        ("verbose", "auto"),
        ("sample_weight", None),
        ("steps", None),
        ("callbacks", None),
        ("return_dict", False),
    ]
    assert _params(keras.Model.predict)[1:] == [
        ("x", inspect.Parameter.empty),
        ("batch_size", None),
        ("verbose", "auto"),
        ("steps", None),
        ("callbacks", None),
    ]


def test_fit_returns_history_with_epochs_params_and_decreasing_loss():
    x, y = _linear_data()
    history = _model().fit(x, y, batch_size=16, epochs=5, verbose=0)
    assert history.epoch == [0, 1, 2, 3, 4]
    assert history.params == {"verbose": 0, "epochs": 5, "steps": 4}
    losses = history.history["loss"]
    assert all(isinstance(v, float) for v in losses)
    assert losses[-1] < 0.5 * losses[0]


def test_fit_loss_is_the_sample_weighted_mean_over_the_epoch():
    x, y = _linear_data(10)
    model = _model(optimizer=keras.optimizers.SGD(0.0))
    history = model.fit(x, y, batch_size=4, epochs=1, shuffle=False, verbose=0)
    expected = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert history.history["loss"][0] == pytest.approx(expected, rel=1e-5)


def test_validation_split_adds_val_keys_for_loss_and_metrics():
    x, y = _linear_data()
    history = _model(metrics=["mae"]).fit(x, y, epochs=2, validation_split=0.25, verbose=0)
    assert sorted(history.history) == ["loss", "mae", "val_loss", "val_mae"]
    assert history.params["steps"] == 2


def test_validation_data_and_validation_freq():
    x, y = _linear_data()
    history = _model().fit(
        x, y, epochs=4, validation_data=(x[:8], y[:8]), validation_freq=2, verbose=0
    )
    assert len(history.history["val_loss"]) == 2


def test_validation_freq_as_a_list_of_epochs():
    x, y = _linear_data(16)
    history = _model().fit(
        x, y, epochs=3, validation_data=(x, y), validation_freq=[1, 3], verbose=0
    )
    assert len(history.history["val_loss"]) == 2


def test_initial_epoch_and_steps_per_epoch():
    x, y = _linear_data(64)
    model = _model()
    history = model.fit(x, y, batch_size=8, epochs=3, initial_epoch=1, steps_per_epoch=2, verbose=0)
    assert history.epoch == [1, 2]
    assert history.params["steps"] == 2
    assert int(model.optimizer.iterations.numpy()) == 4


def test_evaluate_returns_scalar_list_or_dict():
    x, y = _linear_data(16)
    model = _model(metrics=["mae"])
    loss, mae = model.evaluate(x, y, verbose=0)
    as_dict = model.evaluate(x, y, verbose=0, return_dict=True)
    assert as_dict == pytest.approx({"loss": loss, "mae": mae})
    assert isinstance(_model().evaluate(x, y, verbose=0), float)


def test_evaluate_matches_numpy_mse():
    x, y = _linear_data(20)
    model = _model()
    expected = float(np.mean((model.predict(x, verbose=0) - y) ** 2))
    assert model.evaluate(x, y, batch_size=6, verbose=0) == pytest.approx(expected, rel=1e-5)


def test_predict_batches_and_returns_numpy():
    model = _model()
    x = np.random.rand(10, 3).astype("float32")
    out = model.predict(x, batch_size=3, verbose=0)
    assert isinstance(out, np.ndarray) and out.shape == (10, 1)
    np.testing.assert_allclose(
        out, model(torch.as_tensor(x)).detach().numpy(), rtol=1e-5, atol=1e-6
    )


def test_sample_weight_zero_ignores_samples():
    x, y = _linear_data(8)
    model = _model()
    weights = np.array([1, 1, 1, 1, 0, 0, 0, 0], dtype="float32")
    y_bad = y.copy()
    y_bad[4:] = 1000.0
    weighted = model.evaluate(x, y_bad, sample_weight=weights, batch_size=8, verbose=0)
    plain = model.evaluate(x[:4], y[:4], batch_size=8, verbose=0)
    assert weighted == pytest.approx(plain / 2, rel=1e-5)


def test_class_weight_scales_the_loss_of_a_class():
    x = np.ones((4, 3), dtype="float32")
    y = np.array([[0.0], [0.0], [1.0], [1.0]], dtype="float32")
    model = _model(optimizer=keras.optimizers.SGD(0.0))
    base = model.fit(x, y, epochs=1, verbose=0).history["loss"][0]
    weighted = model.fit(x, y, epochs=1, verbose=0, class_weight={1: 3.0}).history["loss"][0]
    prediction = float(model.predict(x[:1], verbose=0)[0, 0])
    expected = (2 * prediction**2 + 2 * 3.0 * (1 - prediction) ** 2) / 4
    assert weighted == pytest.approx(expected, rel=1e-5)
    assert weighted != pytest.approx(base)


def test_fit_on_a_generator_of_pairs_with_steps_per_epoch():
    x, y = _linear_data(64)

    def batches():
        while True:
            for i in range(0, 64, 16):
                yield x[i : i + 16], y[i : i + 16]

    history = _model().fit(batches(), epochs=3, steps_per_epoch=4, verbose=0)
    assert len(history.history["loss"]) == 3
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_fit_on_a_generator_of_triples_uses_sample_weights():
    x, y = _linear_data(8)
    model = _model(optimizer=keras.optimizers.SGD(0.0))
    zeros = np.zeros(8, dtype="float32")
    history = model.fit(iter([(x, y, zeros)]), epochs=1, verbose=0)
    assert history.history["loss"] == [0.0]


def test_fit_and_evaluate_on_a_dataloader():
    x, y = _linear_data(32)
    dataset = torch.utils.data.TensorDataset(torch.as_tensor(x), torch.as_tensor(y))
    model = _model()
    history = model.fit(
        torch.utils.data.DataLoader(dataset, batch_size=8, shuffle=True), epochs=2, verbose=0
    )
    assert history.params["steps"] == 4
    assert isinstance(model.evaluate(dataset, verbose=0), float)


def test_multi_input_multi_output_with_loss_weights_and_per_output_logs():
    a, b = keras.Input(shape=(2,), name="a"), keras.Input(shape=(3,), name="b")
    joined = keras.layers.Concatenate()([a, b])
    model = keras.Model(
        [a, b], [keras.layers.Dense(1, name="p")(joined), keras.layers.Dense(2, name="q")(joined)]
    )
    model.compile(
        optimizer="sgd", loss=["mse", "mae"], loss_weights=[1.0, 0.5], metrics=[["mae"], []]
    )
    xa, xb = np.ones((8, 2), "float32"), np.ones((8, 3), "float32")
    yp, yq = np.zeros((8, 1), "float32"), np.zeros((8, 2), "float32")
    logs = model.evaluate([xa, xb], [yp, yq], verbose=0, return_dict=True)
    assert sorted(logs) == ["loss", "p_loss", "p_mae", "q_loss"]
    assert logs["loss"] == pytest.approx(logs["p_loss"] + 0.5 * logs["q_loss"], rel=1e-5)
    model.fit({"a": xa, "b": xb}, {"p": yp, "q": yq}, epochs=1, verbose=0)


def test_dict_loss_for_dict_outputs():
    x = keras.Input(shape=(2,))
    model = keras.Model(x, {"mean": keras.layers.Dense(1)(x), "var": keras.layers.Dense(1)(x)})
    model.compile(optimizer="sgd", loss={"mean": "mse"})
    y = {"mean": np.zeros((4, 1), "float32"), "var": np.zeros((4, 1), "float32")}
    history = model.fit(np.ones((4, 2), "float32"), y, verbose=0)
    assert "loss" in history.history


def test_unknown_loss_key_is_refused():
    x = keras.Input(shape=(2,))
    model = keras.Model(x, {"mean": keras.layers.Dense(1)(x)})
    model.compile(optimizer="sgd", loss={"mena": "mse"})
    with pytest.raises(
        ValueError, match=r"key\(s\) \['mena'\] do not correspond to any model output"
    ):
        model.fit(np.ones((4, 2)), {"mean": np.zeros((4, 1))}, verbose=0)


def test_fit_before_compile_raises():
    model = keras.Sequential([keras.layers.Dense(1)])
    with pytest.raises(ValueError, match="You must call `compile\\(\\)` before"):
        model.fit(np.ones((2, 2)), np.ones((2, 1)))


def test_no_loss_at_all_raises_keras_message():
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(optimizer="sgd")
    with pytest.raises(ValueError, match="No loss to compute"):
        model.fit(np.ones((2, 2)), np.ones((2, 1)), verbose=0)


def test_train_test_predict_on_batch():
    x, y = _linear_data(8)
    model = _model(metrics=["mae"])
    loss, mae = model.train_on_batch(x, y)
    assert model.test_on_batch(x, y, return_dict=True)["loss"] < loss
    assert model.predict_on_batch(x).shape == (8, 1)


def test_train_on_batch_reports_that_batch_only():
    x, y = _linear_data(8)
    model = _model(optimizer=keras.optimizers.SGD(0.0))
    first = model.train_on_batch(x, y)
    assert model.train_on_batch(x, y) == pytest.approx(first)
    assert model.test_on_batch(x, y) == pytest.approx(first)


def test_get_compile_config_round_trips():
    model = _model(metrics=["mae"])
    config = model.get_compile_config()
    clone = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    clone.compile_from_config(config)
    assert type(clone.optimizer).__name__ == "SGD"
    assert clone.get_compile_config()["loss"] == "mse"
    assert clone.get_compile_config()["metrics"] == ["mae"]


def test_fit_uses_the_default_rmsprop_optimizer():
    model = keras.Sequential([keras.layers.Dense(1)])
    model.compile(loss="mse")
    assert type(model.optimizer).__name__ == "RMSprop"


def test_steps_per_execution_calls_batch_callbacks_less_often():
    ends = []
    callback = keras.callbacks.LambdaCallback(on_train_batch_end=lambda b, logs: ends.append(b))
    x, y = _linear_data(64)
    model = _model(steps_per_execution=4)
    model.fit(x, y, batch_size=8, verbose=0, callbacks=[callback])
    assert ends == [3, 7]
