"""keras.utils.PyDataset in fit/evaluate/predict: order, shuffling, epoch hooks, workers."""

import numpy as np
import pytest

import tritonlayers as keras


class Batches(keras.utils.PyDataset):
    """Batch i is two rows of value i, with targets i; records what was asked for."""

    def __init__(self, count, **kwargs):
        super().__init__(**kwargs)
        self.count = count
        self.seen = []
        self.hooks = []

    def __len__(self):
        return self.count

    def __getitem__(self, index):
        self.seen.append(index)
        x = np.full((2, 3), index, "float32")
        return x, x[:, :1]

    def on_epoch_begin(self):
        self.hooks.append("begin")

    def on_epoch_end(self):
        self.hooks.append("end")


class Endless(keras.utils.PyDataset):
    @property
    def num_batches(self):
        return None

    def __getitem__(self, index):
        return np.full((2, 3), index, "float32"), np.zeros((2, 1), "float32")


def _model():
    model = keras.Sequential([keras.Input((3,)), keras.layers.Dense(1)])
    model.compile("sgd", "mse")
    return model


def test_fit_visits_every_batch_once_per_epoch_between_the_epoch_hooks():
    data, validation = Batches(4), Batches(2)
    history = _model().fit(data, epochs=2, validation_data=validation, verbose=0)
    assert sorted(data.seen) == [0, 0, 1, 1, 2, 2, 3, 3]
    assert data.hooks == ["begin", "end"] * 2 and validation.hooks == ["begin", "end"] * 2
    assert sorted(history.history) == ["loss", "val_loss"]


def test_shuffle_reorders_batches_each_epoch_and_false_keeps_the_order():
    keras.utils.set_random_seed(3)
    shuffled, ordered = Batches(16), Batches(16)
    model = _model()
    model.fit(shuffled, epochs=2, verbose=0)
    model.fit(ordered, epochs=1, shuffle=False, verbose=0)
    first, second = shuffled.seen[:16], shuffled.seen[16:]
    assert sorted(first) == sorted(second) == list(range(16)) and first != second
    assert ordered.seen == list(range(16))


@pytest.mark.parametrize("use_multiprocessing", [False, True])
def test_workers_load_batches_ahead_and_keep_their_order(use_multiprocessing):
    data = Batches(6, workers=2, use_multiprocessing=use_multiprocessing, max_queue_size=3)
    model = _model()
    model.fit(data, epochs=1, shuffle=False, verbose=0)
    serial = _model()
    serial.set_weights(model.get_weights())
    got = model.predict(data, verbose=0)
    want = serial.predict(Batches(6), verbose=0)
    np.testing.assert_allclose(got, want, rtol=1e-6)


def test_evaluate_and_predict_take_a_py_dataset():
    model = _model()
    assert isinstance(model.evaluate(Batches(3), verbose=0), float)
    assert model.predict(Batches(3), verbose=0).shape == (6, 1)


def test_endless_dataset_needs_steps_per_epoch():
    model = _model()
    model.fit(Endless(), epochs=2, steps_per_epoch=3, verbose=0)
    with pytest.raises(ValueError, match="endless .* `steps_per_epoch`"):
        model.fit(Endless(), epochs=1, verbose=0)


def test_bad_batches_and_separate_targets_are_refused_with_keras_messages():
    class Strings(keras.utils.PyDataset):
        def __len__(self):
            return 1

        def __getitem__(self, index):
            return "not a batch"

    model = _model()
    with pytest.raises(ValueError, match=r"Strings.__getitem__\(\) must return a tuple or a dict"):
        model.fit(Strings(), verbose=0)
    with pytest.raises(ValueError, match="`y` should not be passed"):
        model.fit(Batches(2), np.zeros(4), verbose=0)


def test_a_subclass_that_skips_super_init_gets_defaults_and_a_warning():
    class NoInit(keras.utils.PyDataset):
        def __init__(self):
            self.items = [np.zeros((1, 3), "float32")]

        def __len__(self):
            return 1

        def __getitem__(self, index):
            return self.items[index], np.zeros((1, 1), "float32")

    data = NoInit()
    with pytest.warns(UserWarning, match=r"should call `super\(\).__init__\(\*\*kwargs\)`"):
        assert data.workers == 1
    _model().fit(data, verbose=0)
    with pytest.raises(AttributeError, match="no attribute 'missing'"):
        data.missing  # noqa: B018


def test_sequence_is_keras_alias_of_py_dataset():
    assert keras.utils.Sequence is keras.utils.PyDataset
