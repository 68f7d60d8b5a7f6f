"""fit/evaluate/predict options ported from Keras 3.15 programs (only the import changed).

Numbers marked "Keras" were printed by the same program under Keras 3.15 with
KERAS_BACKEND=torch; the model starts from fixed weights so both libraries see the same run.
"""

import re
import warnings

import numpy as np
import pytest
import torch

import tritonlayers as keras

_RNG = np.random.default_rng(0)
X = _RNG.normal(size=(20, 4)).astype("float32")
Y = _RNG.integers(0, 3, size=(20,))
Y_ONE_HOT = np.eye(3)[Y].astype("float32")
KERNEL = _RNG.normal(size=(4, 3)).astype("float32") * 0.5
CLASS_WEIGHT = {0: 1.0, 1: 2.0, 2: 0.5}


def _softmax_model():
    model = keras.Sequential([keras.Input((4,)), keras.layers.Dense(3, activation="softmax")])
    model.set_weights([KERNEL, np.zeros(3, "float32")])
    return model


def _cycling_batches():
    step = 0
    while True:
        part = slice(step % 4 * 5, (step % 4 + 1) * 5)
        yield X[part], Y_ONE_HOT[part]
        step += 1


@pytest.mark.parametrize(
    ("loss", "labels"),
    [
        ("sparse_categorical_crossentropy", Y),
        ("categorical_crossentropy", Y_ONE_HOT),
        ("sparse_categorical_crossentropy", Y.reshape(-1, 1)),
    ],
    ids=["sparse", "one_hot", "sparse_column"],
)
def test_class_weight_matches_keras_for_every_label_layout(loss, labels):
    model = _softmax_model()
    model.compile("sgd", loss, metrics=["accuracy"])
    history = model.fit(
        X, labels, epochs=2, batch_size=7, shuffle=False, class_weight=CLASS_WEIGHT, verbose=0
    )
    # Keras: loss [1.167825, 1.161674], accuracy [0.35, 0.35], kernel[:4] below.
    np.testing.assert_allclose(history.history["loss"], [1.167825, 1.161674], atol=2e-6)
    np.testing.assert_allclose(history.history["accuracy"], [0.35, 0.35], atol=1e-7)
    np.testing.assert_allclose(
        model.get_weights()[0].ravel()[:4], [-0.137481, 0.78053, -0.215931, -0.360857], atol=2e-6
    )


def test_sample_weight_matches_keras_in_fit_and_evaluate():
    weights = np.linspace(0.1, 2, 20)
    model = _softmax_model()
    model.compile(
        "sgd",
        "sparse_categorical_crossentropy",
        metrics=["accuracy"],
        weighted_metrics=["accuracy"],
    )
    history = model.fit(
        X, Y, epochs=2, batch_size=7, sample_weight=weights, shuffle=False, verbose=0
    )
    # Keras: loss [1.652359, 1.618618], weighted_accuracy [0.309524, 0.309524].
    np.testing.assert_allclose(history.history["loss"], [1.652359, 1.618618], atol=2e-6)
    np.testing.assert_allclose(history.history["weighted_accuracy"], [0.309524] * 2, atol=2e-6)
    logs = model.evaluate(X, Y, sample_weight=weights, batch_size=6, verbose=0, return_dict=True)
    # Keras: loss 1.5890390872955322, accuracy 0.3, weighted_accuracy 0.2904762029647827.
    assert logs["loss"] == pytest.approx(1.589039, abs=2e-6)
    assert logs["accuracy"] == pytest.approx(0.3, abs=1e-7)
    assert logs["weighted_accuracy"] == pytest.approx(0.290476, abs=2e-6)


def test_evaluate_list_follows_loss_then_compile_metrics_order():
    model = _softmax_model()
    model.compile("sgd", "categorical_crossentropy", metrics=["mae", "accuracy"])
    as_dict = model.evaluate(X, Y_ONE_HOT, verbose=0, return_dict=True)
    as_list = model.evaluate(X, Y_ONE_HOT, verbose=0)
    # Keras: {'accuracy': 0.35, 'loss': 1.355169, 'mae': 0.439931}, list [loss, mae, accuracy].
    np.testing.assert_allclose(as_list, [1.355169, 0.439931, 0.35], atol=2e-6)
    assert sorted(as_dict) == ["accuracy", "loss", "mae"]
    assert [as_dict[name] for name in ("loss", "mae", "accuracy")] == as_list


def test_steps_per_epoch_on_an_infinite_generator_matches_keras():
    model = _softmax_model()
    model.compile("sgd", "categorical_crossentropy")
    history = model.fit(_cycling_batches(), epochs=3, steps_per_epoch=3, shuffle=False, verbose=0)
    # Keras: loss [1.101453, 1.341927, 1.492845] (one stream, not restarted per epoch).
    np.testing.assert_allclose(history.history["loss"], [1.101453, 1.341927, 1.492845], atol=2e-6)
    assert history.params == {"verbose": 0, "epochs": 3, "steps": 3}


def test_fit_on_a_generator_with_shuffle_warns_like_keras():
    model = _softmax_model()
    model.compile("sgd", "categorical_crossentropy")
    message = (
        "`shuffle=True` was passed, but will be ignored since the data `x` was provided as a "
        "generator. The generator is expected to yield already-shuffled data."
    )
    with pytest.warns(UserWarning, match=re.escape(message)):
        model.fit(_cycling_batches(), epochs=1, steps_per_epoch=2, verbose=0)


def test_fit_on_a_torch_dataset_with_shuffle_does_not_warn():
    dataset = torch.utils.data.TensorDataset(torch.from_numpy(X), torch.from_numpy(Y_ONE_HOT))
    model = _softmax_model()
    model.compile("sgd", "categorical_crossentropy")
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        model.fit(dataset, epochs=1, verbose=0)


def test_validation_freq_int_list_and_initial_epoch_shape_the_history():
    model = _softmax_model()
    model.compile("sgd", "categorical_crossentropy")
    every_second = model.fit(
        X,
        Y_ONE_HOT,
        epochs=3,
        batch_size=4,
        validation_data=_cycling_batches(),
        validation_steps=2,
        validation_freq=2,
        verbose=0,
    )
    assert len(every_second.history["loss"]) == 3
    assert len(every_second.history["val_loss"]) == 1
    listed = model.fit(
        X, Y_ONE_HOT, epochs=4, validation_data=(X, Y_ONE_HOT), validation_freq=[1, 3], verbose=0
    )
    assert len(listed.history["val_loss"]) == 2
    resumed = model.fit(X, Y_ONE_HOT, epochs=4, initial_epoch=2, batch_size=4, verbose=0)
    assert resumed.epoch == [2, 3]
    assert resumed.params == {"verbose": 0, "epochs": 4, "steps": 5}


def test_fit_default_verbose_is_kept_as_auto_in_history_params(capsys):
    model = _softmax_model()
    model.compile("sgd", "categorical_crossentropy")
    history = model.fit(X, Y_ONE_HOT, epochs=1)
    # Keras: {'verbose': 'auto', 'epochs': 1, 'steps': 1}.
    assert history.params == {"verbose": "auto", "epochs": 1, "steps": 1}
    # Captured stdout is not a terminal: "auto" prints the one-line form (issue 5's rule).
    assert re.search(r"^1/1 - ", capsys.readouterr().out, flags=re.MULTILINE)


@pytest.mark.parametrize("method", ["evaluate", "predict"])
def test_default_verbose_prints_one_line_when_stdout_is_not_a_terminal(method, capsys):
    model = _softmax_model()
    model.compile("sgd", "categorical_crossentropy")
    if method == "evaluate":
        model.evaluate(X, Y_ONE_HOT)
    else:
        model.predict(X)
    out = capsys.readouterr().out
    assert re.search(r"^1/1 - ", out, flags=re.MULTILINE) and "━" not in out


def test_verbose_two_prints_one_final_line_for_evaluate_and_predict(capsys):
    model = _softmax_model()
    model.compile("sgd", "categorical_crossentropy")
    model.evaluate(X, Y_ONE_HOT, batch_size=8, verbose=2)
    model.predict(X, batch_size=8, verbose=2)
    lines = capsys.readouterr().out.strip().splitlines()
    assert len(lines) == 2
    assert re.fullmatch(r"3/3 - \d+s - \d+(us|ms|s)/step - loss: \d\.\d{4}", lines[0])
    assert re.fullmatch(r"3/3 - \d+s - \d+(us|ms|s)/step", lines[1])


def test_trainable_false_model_warns_and_keeps_its_weights():
    model = _softmax_model()
    model.trainable = False
    model.compile("sgd", "categorical_crossentropy")
    with pytest.warns(UserWarning, match="The model does not have any trainable weights."):
        model.fit(X, Y_ONE_HOT, epochs=1, verbose=0)
    np.testing.assert_array_equal(model.get_weights()[0], KERNEL)


def test_set_random_seed_makes_two_runs_bit_identical():
    def run():
        keras.utils.set_random_seed(5)
        model = keras.Sequential(
            [
                keras.Input((4,)),
                keras.layers.Dense(8, activation="relu"),
                keras.layers.Dropout(0.5),
                keras.layers.Dense(3, activation="softmax"),
            ]
        )
        model.compile("adam", "sparse_categorical_crossentropy")
        initial = model.get_weights()
        model.fit(X, Y, epochs=2, batch_size=4, verbose=0)
        return initial, model.get_weights()

    (first_initial, first_final), (second_initial, second_final) = run(), run()
    for a, b in zip(first_initial + first_final, second_initial + second_final):
        np.testing.assert_array_equal(a, b)


def test_shuffle_false_visits_batches_in_order():
    inputs = np.arange(8, dtype="float32").reshape(-1, 1)
    model = keras.Sequential(
        [keras.Input((1,)), keras.layers.Dense(1, use_bias=False, kernel_initializer="ones")]
    )
    model.compile(keras.optimizers.SGD(0.01), "mse")
    model.fit(inputs, 2 * inputs, batch_size=3, shuffle=False, epochs=1, verbose=0)
    # float64 reference: plain SGD over the batches [0:3], [3:6], [6:8] in that order.
    w, x64 = 1.0, inputs.astype("float64").ravel()
    for part in (slice(0, 3), slice(3, 6), slice(6, 8)):
        xb = x64[part]
        w -= 0.01 * np.mean(2 * (w * xb - 2 * xb) * xb)
    np.testing.assert_allclose(model.get_weights()[0].item(), w, rtol=1e-6)


def test_predict_on_a_generator_and_on_a_py_dataset():
    class ThreeBatches(keras.utils.PyDataset):
        def __len__(self):
            return 3

        def __getitem__(self, index):
            return X[index * 6 : (index + 1) * 6], Y[index * 6 : (index + 1) * 6]

    model = _softmax_model()
    expected = model.predict(X, verbose=0)
    from_generator = model.predict(((X[i * 5 : (i + 1) * 5],) for i in range(3)), verbose=0)
    np.testing.assert_allclose(from_generator, expected[:15], atol=1e-6)
    np.testing.assert_allclose(model.predict(ThreeBatches(), verbose=0), expected[:18], atol=1e-6)


def test_validation_steps_on_arrays_evaluates_the_same_batches_every_epoch():
    model = _softmax_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(
        X,
        Y,
        epochs=2,
        batch_size=8,
        shuffle=False,
        validation_data=(X, Y),
        validation_batch_size=3,
        validation_steps=2,
        verbose=0,
    )
    # Keras: val_loss [1.082581, 1.088652]; both epochs see validation rows 0-5 (it was
    # [1.082581, 0.741521] here when the second epoch went on with rows 6-11).
    np.testing.assert_allclose(history.history["val_loss"], [1.082581, 1.088652], atol=2e-6)


def test_steps_per_epoch_zero_means_one_full_pass():
    model = _softmax_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    history = model.fit(X, Y, epochs=1, batch_size=4, steps_per_epoch=0, shuffle=False, verbose=0)
    full = _softmax_model()
    full.compile("sgd", "sparse_categorical_crossentropy")
    expected = full.fit(X, Y, epochs=1, batch_size=4, shuffle=False, verbose=0)
    assert history.history["loss"] == pytest.approx(expected.history["loss"], abs=1e-7)
    assert history.history["loss"][0] > 1.0


def test_bad_validation_freq_type_has_keras_message():
    model = _softmax_model()
    model.compile("sgd", "sparse_categorical_crossentropy")
    message = "Expected `validation_freq` to be a list or int. Received: validation_freq=a of"
    with pytest.raises(ValueError, match=re.escape(message)):
        model.fit(X, Y, epochs=1, validation_data=(X, Y), validation_freq="a", verbose=0)
