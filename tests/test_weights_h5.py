"""`.weights.h5` files in the Keras 3 layout: round trips, the group layout Keras 3.15
writes, Keras-built files loading, ModelCheckpoint, and clear errors on mismatches.

The layouts below were checked against files written by Keras 3.15 (torch backend) for the
same architectures; Keras also loaded files written by tritonlayers and predicted the same
values. No Keras-written file is committed: `_write_keras_layout` builds one by hand.
"""

import sys

import numpy as np
import pytest

h5py = pytest.importorskip("h5py")

import tritonlayers as keras  # noqa: E402
from tritonlayers import layers  # noqa: E402
from tritonlayers.saving import ArchiveError  # noqa: E402

RNG = np.random.default_rng(0)


class Block(keras.layers.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.inner = layers.Dense(4, activation="relu")
        self.norm = layers.BatchNormalization()
        self.blocks = [layers.Dense(4), layers.Dense(3)]

    def call(self, x, training=False):
        x = self.norm(self.inner(x), training=training)
        for block in self.blocks:
            x = block(x)
        return x


class Sub(keras.Model):
    def __init__(self):
        super().__init__()
        self.emb = layers.Embedding(20, 6)
        self.lstm = layers.LSTM(5, return_sequences=True)
        self.block = Block()
        self.head = layers.Dense(2)

    def call(self, x):
        return self.head(self.block(self.lstm(self.emb(x))))


def sequential():
    return keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            layers.Conv2D(4, 3),
            layers.BatchNormalization(),
            layers.Flatten(),
            layers.Dense(5),
            layers.Dense(2),
        ]
    )


def functional():
    inputs = keras.Input((7,), dtype="int32")
    x = layers.LSTM(6)(layers.Embedding(30, 4)(inputs))
    outputs = layers.Concatenate()([layers.Dense(3)(x), Block()(x)])
    return keras.Model(inputs, outputs)


def subclassed():
    model = Sub()
    model(np.zeros((2, 7), "int32"))
    return model


# {dataset path: shape} of the files Keras 3.15 writes for these three models.
KERAS_LAYOUTS = {
    sequential: {
        "layers/conv2d/vars/0": (3, 3, 3, 4),
        "layers/conv2d/vars/1": (4,),
        **{f"layers/batch_normalization/vars/{i}": (4,) for i in range(4)},
        "layers/dense/vars/0": (144, 5),
        "layers/dense/vars/1": (5,),
        "layers/dense_1/vars/0": (5, 2),
        "layers/dense_1/vars/1": (2,),
    },
    functional: {
        "layers/embedding/vars/0": (30, 4),
        "layers/lstm/cell/vars/0": (4, 24),
        "layers/lstm/cell/vars/1": (6, 24),
        "layers/lstm/cell/vars/2": (24,),
        "layers/dense/vars/0": (6, 3),
        "layers/dense/vars/1": (3,),
        "layers/block/inner/vars/0": (6, 4),
        "layers/block/inner/vars/1": (4,),
        **{f"layers/block/norm/vars/{i}": (4,) for i in range(4)},
        "layers/block/blocks/dense/vars/0": (4, 4),
        "layers/block/blocks/dense/vars/1": (4,),
        "layers/block/blocks/dense_1/vars/0": (4, 3),
        "layers/block/blocks/dense_1/vars/1": (3,),
    },
    subclassed: {
        "emb/vars/0": (20, 6),
        # `layers` sorts before `lstm`, so Keras reaches the LSTM through `model.layers`
        "layers/lstm/cell/vars/0": (6, 20),
        "layers/lstm/cell/vars/1": (5, 20),
        "layers/lstm/cell/vars/2": (20,),
        "block/inner/vars/0": (5, 4),
        "block/inner/vars/1": (4,),
        **{f"block/norm/vars/{i}": (4,) for i in range(4)},
        "block/blocks/dense/vars/0": (4, 4),
        "block/blocks/dense/vars/1": (4,),
        "block/blocks/dense_1/vars/0": (4, 3),
        "block/blocks/dense_1/vars/1": (3,),
        "head/vars/0": (3, 2),
        "head/vars/1": (2,),
    },
}
# The groups Keras writes without datasets (layers without variables, the model itself).
KERAS_EMPTY_GROUPS = {
    sequential: {"vars", "layers/flatten/vars"},
    functional: {
        "vars",
        "layers/input_layer/vars",
        "layers/lstm/vars",
        "layers/block/vars",
        "layers/concatenate/vars",
    },
    subclassed: {"vars", "layers/lstm/vars", "block/vars"},
}
INPUTS = {
    sequential: RNG.normal(size=(4, 8, 8, 3)).astype("float32"),
    functional: RNG.integers(0, 20, size=(4, 7)).astype("int32"),
    subclassed: RNG.integers(0, 20, size=(4, 7)).astype("int32"),
}
BUILDERS = [sequential, functional, subclassed]


def _randomize(model, seed):
    rng = np.random.default_rng(seed)
    model.set_weights(
        [(np.abs(rng.normal(size=w.shape)) + 0.5).astype(w.dtype) for w in model.get_weights()]
    )


def _datasets(path):
    found = {}
    with h5py.File(path, "r") as file:
        file.visititems(
            lambda name, item: (
                found.__setitem__(name, item) if isinstance(item, h5py.Dataset) else None
            )
        )
        return {name: item.shape for name, item in found.items()}


def _groups(path):
    found = []
    with h5py.File(path, "r") as file:
        file.visit(found.append)
    return {name for name in found if name.split("/")[-1] == "vars"}


@pytest.mark.parametrize("build", BUILDERS, ids=lambda build: build.__name__)
def test_saved_layout_is_the_keras_layout(tmp_path, build):
    path = tmp_path / "m.weights.h5"
    build().save_weights(path)
    assert _datasets(path) == KERAS_LAYOUTS[build]
    with_data = {name.rsplit("/", 1)[0] for name in KERAS_LAYOUTS[build]}
    assert _groups(path) == with_data | KERAS_EMPTY_GROUPS[build]


@pytest.mark.parametrize("build", BUILDERS, ids=lambda build: build.__name__)
def test_round_trip_gives_identical_predictions(tmp_path, build):
    source, target = build(), build()
    _randomize(source, 1)
    _randomize(target, 2)
    path = tmp_path / "m.weights.h5"
    source.save_weights(path)
    target.load_weights(path)
    np.testing.assert_array_equal(
        target.predict(INPUTS[build], verbose=0), source.predict(INPUTS[build], verbose=0)
    )


def _write_keras_layout(path, model):
    """Write `model`'s weights as Keras 3.15 lays them out, by hand: each layer's own
    variables (trainable, then non-trainable) under `<keras path>/vars/<index>`."""
    by_layer = {
        "layers/conv2d": model.layers[0],
        "layers/batch_normalization": model.layers[1],
        "layers/flatten": model.layers[2],
        "layers/dense": model.layers[3],
        "layers/dense_1": model.layers[4],
    }
    with h5py.File(path, "w") as file:
        file.create_group("vars").attrs["name"] = "sequential"
        for group_path, layer in by_layer.items():
            group = file.create_group(f"{group_path}/vars")
            group.attrs["name"] = layer.name
            own = [*layer.trainable_weights, *layer.non_trainable_weights]
            for index, variable in enumerate(own):
                group[str(index)] = variable.numpy()
        optimizer = file.create_group("optimizer/vars")
        optimizer.attrs["name"] = "adam"
        optimizer["0"] = np.array(3, "int64")


def test_a_keras_layout_file_loads_with_a_warning_for_its_optimizer_state(tmp_path):
    source, target = sequential(), sequential()
    _randomize(source, 3)
    path = tmp_path / "keras.weights.h5"
    _write_keras_layout(path, source)
    with pytest.warns(UserWarning, match="optimizer state .* is not restored"):
        target.load_weights(path)
    np.testing.assert_array_equal(
        target.predict(INPUTS[sequential], verbose=0),
        source.predict(INPUTS[sequential], verbose=0),
    )


def _rewrite(path, edit):
    with h5py.File(path, "a") as file:
        edit(file)


@pytest.mark.parametrize(
    ("edit", "message"),
    [
        (lambda f: f["layers/dense/vars"].pop("1"), r"dense/bias \(shape \(5,\)\): missing"),
        (
            lambda f: f["layers/dense/vars"].create_dataset("2", data=np.ones(3)),
            r"layers/dense/vars/2: in the file but not in the model",
        ),
        (
            lambda f: f.create_dataset("layers/extra/vars/0", data=np.ones(3)),
            r"layers/extra/vars/0: in the file but not in the model",
        ),
        (
            lambda f: (
                f["layers/dense_1/vars"].pop("0"),
                f["layers/dense_1/vars"].create_dataset("0", data=np.ones((4, 2), "float32")),
            ),
            r"dense_1/kernel: the model expects shape \(5, 2\), the file holds \(4, 2\)",
        ),
    ],
    ids=["missing", "extra_in_layer", "extra_layer", "wrong_shape"],
)
def test_mismatches_name_the_file_and_change_nothing(tmp_path, edit, message):
    path = tmp_path / "m.weights.h5"
    sequential().save_weights(path)
    _rewrite(path, edit)
    target = sequential()
    before = [w.copy() for w in target.get_weights()]
    with pytest.raises(ArchiveError, match=message) as raised:
        target.load_weights(path)
    assert str(path) in str(raised.value)
    for old, new in zip(before, target.get_weights(), strict=True):
        np.testing.assert_array_equal(old, new)


def test_skip_mismatch_loads_the_rest(tmp_path):
    source, target = sequential(), sequential()
    _randomize(source, 4)
    path = tmp_path / "m.weights.h5"
    source.save_weights(path)
    _rewrite(path, lambda f: f["layers/dense/vars"].pop("1"))
    with pytest.warns(UserWarning, match="dense/bias"):
        target.load_weights(path, skip_mismatch=True)
    np.testing.assert_array_equal(target.layers[0].kernel.numpy(), source.layers[0].kernel.numpy())


def test_a_file_that_is_not_hdf5_is_named(tmp_path):
    path = tmp_path / "bad.weights.h5"
    path.write_bytes(b"not an hdf5 file")
    with pytest.raises(ArchiveError, match=r"bad\.weights\.h5: not an HDF5 file"):
        sequential().load_weights(path)


def test_a_missing_file_is_named(tmp_path):
    with pytest.raises(FileNotFoundError, match=r"absent\.weights\.h5"):
        sequential().load_weights(tmp_path / "absent.weights.h5")


def test_missing_h5py_names_the_file_and_the_fix(tmp_path, monkeypatch):
    monkeypatch.setitem(sys.modules, "h5py", None)
    path = tmp_path / "m.weights.h5"
    with pytest.raises(ImportError, match=r"m\.weights\.h5.*pip install h5py.*safetensors"):
        sequential().save_weights(path)
    assert not path.exists()


def test_a_failed_write_keeps_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "m.weights.h5"
    model = sequential()
    model.save_weights(path)
    before = path.read_bytes()
    monkeypatch.setattr(model.layers[0], "save_own_variables", _fail)
    with pytest.raises(RuntimeError, match="disk full"):
        model.save_weights(path)
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["m.weights.h5"]


def _fail(store):
    raise RuntimeError("disk full")


def test_overwrite_false_and_unbuilt_models_are_refused(tmp_path):
    path = tmp_path / "m.weights.h5"
    sequential().save_weights(path)
    with pytest.raises(FileExistsError, match="overwrite=False"):
        sequential().save_weights(path, overwrite=False)
    with pytest.raises(ValueError, match="has not been built"):
        keras.Sequential([layers.Dense(2)]).save_weights(tmp_path / "u.weights.h5")


def test_a_layer_with_its_own_store_round_trips(tmp_path):
    class Scaled(keras.layers.Layer):
        def build(self, input_shape):
            self.scale = self.add_weight(shape=(input_shape[-1],), initializer="ones")

        def call(self, x):
            return x * self.scale

        def save_own_variables(self, store):
            store["scale"] = self.scale.numpy() * 2

        def load_own_variables(self, store):
            self.scale.assign(store["scale"] / 2)

    def build():
        return keras.Sequential([keras.Input((3,)), Scaled()])

    source, target = build(), build()
    source.layers[0].scale.assign(np.array([1.0, 2.0, 3.0], "float32"))
    path = tmp_path / "m.weights.h5"
    source.save_weights(path)
    assert _datasets(path) == {"layers/scaled/vars/scale": (3,)}
    target.load_weights(path)
    np.testing.assert_array_equal(target.layers[0].scale.numpy(), [1.0, 2.0, 3.0])


def test_model_checkpoint_writes_weights_h5(tmp_path):
    model = sequential()
    model.compile("adam", "mse")
    path = tmp_path / "ckpt.weights.h5"
    checkpoint = keras.callbacks.ModelCheckpoint(str(path), save_weights_only=True)
    x, y = INPUTS[sequential], np.ones((4, 2), "float32")
    model.fit(x, y, epochs=1, verbose=0, callbacks=[checkpoint])
    restored = sequential()
    restored.load_weights(path)
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))
