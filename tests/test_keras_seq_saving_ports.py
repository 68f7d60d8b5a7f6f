"""Regressions found by running three keras.io programs with only the import changed:
"Sequence to sequence learning for performing number addition" (LSTM encoder, RepeatVector,
LSTM decoder, with and without TimeDistributed), the guide "Customizing Saving and
Serialization" (save_own_variables/load_own_variables, build configs, registered names,
custom objects, loading in a fresh process), and "Multi-GPU distributed training with
PyTorch" run on the CPU (2 gloo processes, DistributedDataParallel over a functional model).
Expected values were checked against Keras 3.15 (torch backend) on the same code.
"""

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest

import tritonlayers as keras
from tritonlayers import layers, ops

ROOT = Path(__file__).resolve().parents[1]


def _run_python(code: str, cwd: Path, timeout: int = 120) -> str:
    """Run `code` in a fresh interpreter that imports tritonlayers from this checkout."""
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT), str(cwd)])}
    result = subprocess.run(
        [sys.executable, "-c", textwrap.dedent(code)],
        cwd=cwd,
        env=env,
        capture_output=True,
        text=True,
        timeout=timeout,
    )
    assert result.returncode == 0, result.stderr[-3000:]
    return result.stdout


# ------------------------------------------------------------------ number addition (seq2seq)

_LSTM_KEYS = [
    "name", "trainable", "dtype", "return_sequences", "return_state", "go_backwards",
    "stateful", "unroll", "zero_output_for_mask", "units", "activation",
    "recurrent_activation", "use_bias", "kernel_initializer", "recurrent_initializer",
    "bias_initializer", "unit_forget_bias", "kernel_regularizer", "recurrent_regularizer",
    "bias_regularizer", "activity_regularizer", "kernel_constraint", "recurrent_constraint",
    "bias_constraint", "dropout", "recurrent_dropout", "seed",
]  # fmt: skip


def _addition_model(chars: int, digits: int, time_distributed: bool) -> keras.Sequential:
    model = keras.Sequential()
    model.add(layers.Input((digits + 1 + digits, chars)))
    model.add(layers.LSTM(128))
    model.add(layers.RepeatVector(digits + 1))
    model.add(layers.LSTM(128, return_sequences=True))
    head = layers.Dense(chars, activation="softmax")
    model.add(layers.TimeDistributed(head) if time_distributed else head)
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    return model


@pytest.mark.parametrize("time_distributed", [False, True])
def test_addition_seq2seq_trains_predicts_and_configures_as_keras(time_distributed):
    rng = np.random.default_rng(0)
    chars, digits = 12, 3
    x = np.eye(chars, dtype=bool)[rng.integers(0, chars, size=(40, 7))]
    y = np.eye(chars, dtype=bool)[rng.integers(0, chars, size=(40, 4))]
    model = _addition_model(chars, digits, time_distributed)
    # Keras 3.15: 72,192 + 0 + 131,584 + 1,548 parameters, output (None, 4, 12).
    assert [layer.count_params() for layer in model.layers] == [72192, 0, 131584, 1548]
    assert model.output_shape == (None, 4, 12)
    history = model.fit(x[:32], y[:32], batch_size=16, epochs=1, verbose=0,
                        validation_data=(x[32:], y[32:]))  # fmt: skip
    assert sorted(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    preds = np.argmax(model.predict(x[:1], verbose=0), axis=-1)
    assert preds.shape == (1, 4) and preds.dtype == np.int64
    # The encoder's config lists its keys in Keras's order (a printed config or a saved
    # config.json reads as Keras's).
    assert list(model.get_config()["layers"][1]["config"]) == _LSTM_KEYS


def test_recurrent_layers_and_cells_list_config_keys_in_keras_order():
    # Keras 3.15 orders: RNN's own arguments before `cell`; each layer's cell arguments
    # with recurrent_activation after activation, unit_forget_bias (LSTM) after the
    # initializers and activity_regularizer among the regularizers; reset_after (GRU)
    # before seed.
    assert list(layers.LSTM(3).get_config()) == _LSTM_KEYS
    gru = list(layers.GRU(3).get_config())
    assert gru[9:12] == ["units", "activation", "recurrent_activation"]
    assert gru[-3:] == ["recurrent_dropout", "reset_after", "seed"]
    assert gru[gru.index("bias_regularizer") + 1] == "activity_regularizer"
    assert list(layers.LSTMCell(3).get_config())[3:8] == [
        "units", "activation", "recurrent_activation", "use_bias", "unit_forget_bias",
    ]  # fmt: skip
    assert list(layers.GRUCell(3).get_config())[-3:] == [
        "recurrent_dropout", "reset_after", "seed",
    ]  # fmt: skip
    assert list(layers.RNN(layers.LSTMCell(2)).get_config())[-2:] == [
        "zero_output_for_mask", "cell",
    ]  # fmt: skip
    restored = layers.LSTM.from_config(layers.LSTM(3, unit_forget_bias=False).get_config())
    assert restored.cell.unit_forget_bias is False


def test_dense_and_embedding_accept_keras_quantization_config_none():
    # Keras 3.15 lists `quantization_config: None` in Dense/Embedding/EinsumDense configs
    # (so its config.json files carry it) and accepts it as an argument.
    dense = layers.Dense(2, quantization_config=None)
    assert list(dense.get_config())[-1] == "quantization_config"
    assert layers.Dense.from_config(dense.get_config()).units == 2
    embedding = layers.Embedding(5, 3, quantization_config=None)
    assert list(embedding.get_config())[-5:] == [
        "embeddings_regularizer", "activity_regularizer", "embeddings_constraint",
        "mask_zero", "quantization_config",
    ]  # fmt: skip
    assert layers.EinsumDense("ab,bc->ac", 4).get_config()["quantization_config"] is None
    with pytest.raises(ValueError, match="Dense: quantization is not supported"):
        layers.Dense(2, quantization_config={"mode": "int8"})


# ------------------------------------------------------------------ customizing saving

# The guide's layers, in an importable module so that a fresh process can load with or
# without them registered.
_GUIDE_LAYERS = '''
import numpy as np
import tritonlayers as keras


@keras.saving.register_keras_serializable(package="my_custom_package")
class LayerWithCustomVariable(keras.layers.Dense):
    """The guide's layer, as written: it loads its store by `self.weights` order."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.my_variable = keras.Variable(
            np.random.random((units,)), name="my_variable", dtype="float32"
        )

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["variables"] = self.my_variable.numpy()

    def load_own_variables(self, store):
        self.my_variable.assign(store["variables"])
        for i, v in enumerate(self.weights):
            v.assign(store[f"{i}"])

    def call(self, inputs):
        return super().call(inputs) + self.my_variable


@keras.saving.register_keras_serializable(package="my_custom_package")
class DenseWithExtraVariable(keras.layers.Dense):
    """The same layer, loading Dense's store layout ("0" kernel, "1" bias) by key."""

    def __init__(self, units, **kwargs):
        super().__init__(units, **kwargs)
        self.my_variable = keras.Variable(np.zeros((units,)), name="my_variable")

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["variables"] = self.my_variable.numpy()

    def load_own_variables(self, store):
        self.seen_store = {key: (type(store[key]).__name__, store[key].shape) for key in store}
        self.my_variable.assign(store["variables"])
        self.kernel.assign(store["0"])
        self.bias.assign(store["1"])

    def call(self, inputs):
        return super().call(inputs) + self.my_variable


@keras.saving.register_keras_serializable(package="MyLayers", name="Counter")
class Counter(keras.layers.Layer):
    """Keeps a numpy array that is not a weight in its store, next to its weights."""

    def __init__(self, units=3, **kwargs):
        super().__init__(**kwargs)
        self.units = units
        self.counts = np.zeros((units,), "int64")
        self.seen = 0

    def build(self, input_shape):
        self.w = self.add_weight(shape=(input_shape[-1], self.units), initializer="ones")
        self.m = self.add_weight(shape=(self.units,), initializer="zeros", trainable=False)

    def call(self, inputs):
        return keras.ops.matmul(inputs, self.w) + self.m

    def get_config(self):
        return {**super().get_config(), "units": self.units}

    def save_own_variables(self, store):
        super().save_own_variables(store)
        store["counts"] = self.counts
        store["seen"] = np.array(self.seen)

    def load_own_variables(self, store):
        self.counts = np.array(store["counts"])
        self.seen = int(store["seen"])  # a 0-d array, as saved
        super().load_own_variables({key: store[key] for key in ("0", "1")})
'''


@pytest.fixture
def guide(tmp_path, monkeypatch):
    (tmp_path / "guide_layers.py").write_text(_GUIDE_LAYERS)
    monkeypatch.syspath_prepend(str(tmp_path))
    monkeypatch.delitem(sys.modules, "guide_layers", raising=False)
    import guide_layers

    return guide_layers


def test_custom_store_of_a_dense_subclass_round_trips_with_dense_layout(guide, tmp_path):
    layer = guide.DenseWithExtraVariable(2)
    model = keras.Sequential([keras.Input((4,)), layer])
    layer.my_variable.assign(np.array([7.0, 8.0], "float32"))
    path = str(tmp_path / "extra.keras")
    model.save(path)
    restored = keras.models.load_model(path)
    # Keras 3.15: Dense stores "0" kernel and "1" bias only; the subclass adds "variables";
    # loading hands numpy arrays back.
    assert restored.layers[0].seen_store == {
        "0": ("ndarray", (4, 2)), "1": ("ndarray", (2,)), "variables": ("ndarray", (2,)),
    }  # fmt: skip
    np.testing.assert_array_equal(ops.convert_to_numpy(restored.layers[0].my_variable), [7, 8])
    x = np.ones((3, 4), "float32")
    np.testing.assert_allclose(restored.predict(x, verbose=0), model.predict(x, verbose=0))


def test_guide_layer_that_loads_by_weights_order_fails_as_in_keras(guide, tmp_path):
    # The guide's `load_own_variables` assigns store "0" (Dense's kernel) to
    # `self.weights[0]`, which is `my_variable`: Keras 3.15 refuses the file so.
    model = keras.Sequential([guide.LayerWithCustomVariable(1)])
    model.compile(optimizer="adam", loss="mean_squared_error")
    model.fit(np.random.random((8, 10)), np.random.random((8, 10)), verbose=0)
    path = str(tmp_path / "custom_vars_model.keras")
    model.save(path)
    with pytest.raises(ValueError) as error:
        keras.models.load_model(path)
    message = str(error.value)
    assert message.startswith(
        "A total of 1 objects could not be loaded. Example error message for object "
        "<LayerWithCustomVariable name=layer_with_custom_variable, built=True>:"
    )
    assert "variable.shape=(1,), Received: value.shape=(10, 1)" in message


def test_layer_store_keeps_an_extra_non_weight_array(guide, tmp_path):
    model = keras.Sequential([keras.Input((4,)), guide.Counter(name="counter")])
    counter = model.layers[0]
    counter.counts[:] = [3, 1, 2]
    counter.seen = 4
    counter.m.assign(np.array([1.0, 2.0, 3.0], "float32"))
    path = str(tmp_path / "counter.keras")
    model.save(path)
    restored = keras.models.load_model(path).layers[0]
    assert restored.counts.dtype == np.int64 and restored.counts.tolist() == [3, 1, 2]
    assert restored.seen == 4
    np.testing.assert_array_equal(ops.convert_to_numpy(restored.m), [1, 2, 3])
    weights_path = str(tmp_path / "counter.weights.safetensors")
    model.save_weights(weights_path)
    twin = keras.Sequential([keras.Input((4,)), guide.Counter()])
    twin.load_weights(weights_path)
    assert twin.layers[0].counts.tolist() == [3, 1, 2]


def test_a_load_only_override_gets_the_default_store(tmp_path):
    # Overriding only `load_own_variables` still routes the layer's state through it, with
    # the store the inherited `save_own_variables` wrote (Dense's "0" kernel, "1" bias).
    class Halving(layers.Dense):
        def load_own_variables(self, store):
            self.seen = sorted(store)
            super().load_own_variables({key: np.asarray(v) / 2 for key, v in store.items()})

    source = keras.Sequential([keras.Input((2,)), Halving(2, kernel_initializer="ones")])
    path = str(tmp_path / "halving.weights.safetensors")
    source.save_weights(path)
    target = keras.Sequential([keras.Input((2,)), Halving(2)])
    target.load_weights(path)
    assert target.layers[0].seen == ["0", "1"]
    np.testing.assert_array_equal(ops.convert_to_numpy(target.layers[0].kernel), 0.5)


def test_default_load_own_variables_checks_the_count_with_keras_message():
    class Lazy(layers.Layer):
        def build(self, input_shape):
            self.k = self.add_weight(shape=(input_shape[-1], 2), name="k")

    lazy = Lazy(name="lazy")
    with pytest.raises(ValueError, match="Layer 'lazy' was never built and thus it doesn't"):
        lazy.load_own_variables({"0": np.ones((3, 2))})
    lazy.build((None, 3))
    with pytest.raises(
        ValueError,
        match=r"Layer 'lazy' expected 1 variables, but received 2 variables during loading. "
        r"Expected: \['k'\]",
    ):
        lazy.load_own_variables({"0": np.ones((3, 2)), "1": np.ones(2)})
    store = {}
    dense = layers.Dense(2, use_bias=False)
    dense.save_own_variables(store)
    assert store == {}  # Keras 3.15: an unbuilt Dense stores nothing
    dense.build((None, 3))
    dense.save_own_variables(store)
    assert list(store) == ["0"]


def test_store_value_that_is_not_numeric_is_refused_with_the_layer_name(tmp_path):
    class Vocabulary(layers.Layer):
        def save_own_variables(self, store):
            store["words"] = np.array(["a", "b"])

    model = keras.Sequential([keras.Input((2,)), Vocabulary(name="vocab")])
    with pytest.raises(ValueError, match=r"Layer 'vocab' \(Vocabulary\).*'words'.*<U1"):
        model.save(str(tmp_path / "v.keras"))


def test_fresh_process_loads_only_with_the_class_registered(guide, tmp_path):
    model = keras.Sequential([keras.Input((4,)), guide.Counter(name="counter")])
    model.layers[0].counts[:] = [5, 6, 7]
    model.save(str(tmp_path / "counter.keras"))
    out = _run_python(
        """
        import tritonlayers as keras
        try:
            keras.models.load_model("counter.keras")
        except TypeError as error:
            print("unknown:", str(error).split("Full object config")[0])
        import guide_layers
        print(keras.models.load_model("counter.keras").layers[0].counts.tolist())
        with keras.saving.custom_object_scope({"Counter": guide_layers.Counter}):
            print(type(keras.models.load_model("counter.keras").layers[0]).__name__)
        """,
        tmp_path,
    )
    assert "unknown:" in out and "Could not locate class 'Counter'" in out
    assert out.splitlines()[-2:] == ["[5, 6, 7]", "Counter"]


def test_sequential_built_from_data_lists_its_input_layer_in_config():
    # Keras 3.15 builds `Sequential([Dense])` on its first batch with an InputLayer of that
    # batch shape, and lists it first in `get_config()["layers"]` (and so in config.json).
    model = keras.Sequential([layers.Dense(2)])
    model(np.ones((8, 10), "float32"))
    config = model.get_config()
    assert [layer["class_name"] for layer in config["layers"]] == ["InputLayer", "Dense"]
    assert config["layers"][0]["config"]["batch_shape"] == (8, 10)
    restored = keras.Sequential.from_config(config)
    assert restored.input_shape == (8, 10) and [layer.name for layer in restored.layers] == [
        model.layers[0].name
    ]


# ------------------------------------------------------------------ DDP on the CPU (gloo)

_DDP_PROGRAM = """
import os, socket, sys
import numpy as np
import torch
import tritonlayers as keras


def get_model():
    inputs = keras.Input(shape=(8, 8, 1))
    x = keras.layers.Rescaling(1.0 / 255.0)(inputs)
    x = keras.layers.Conv2D(filters=4, kernel_size=3, padding="same", use_bias=False)(x)
    x = keras.layers.BatchNormalization(scale=False, center=True)(x)
    x = keras.layers.ReLU()(x)
    x = keras.layers.GlobalAveragePooling2D()(x)
    x = keras.layers.Dense(8, activation="relu")(x)
    x = keras.layers.Dropout(0.5)(x)
    return keras.Model(inputs, keras.layers.Dense(10)(x))


def per_device_launch_fn(rank, num, port):
    os.environ.update(MASTER_ADDR="localhost", MASTER_PORT=str(port))
    torch.distributed.init_process_group("gloo", world_size=num, rank=rank)
    keras.utils.set_random_seed(rank)  # each rank starts elsewhere: DDP broadcasts rank 0's
    rng = np.random.default_rng(0)
    dataset = torch.utils.data.TensorDataset(
        torch.from_numpy(rng.integers(0, 255, size=(32, 8, 8, 1)).astype("float32")),
        torch.from_numpy(rng.integers(0, 10, size=(32,))),
    )
    sampler = torch.utils.data.distributed.DistributedSampler(
        dataset, num_replicas=num, rank=rank, shuffle=False
    )
    loader = torch.utils.data.DataLoader(dataset, sampler=sampler, batch_size=4)
    model = get_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    ddp_model = torch.nn.parallel.DistributedDataParallel(model)
    start = [p.detach().clone() for p in model.parameters()]
    for inputs, targets in loader:
        loss = torch.nn.functional.cross_entropy(ddp_model(inputs), targets)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    moved = max(float((p - s).abs().max()) for p, s in zip(model.parameters(), start))
    np.savez(f"rank{rank}.npz", moved=moved,
             **{w.path: keras.ops.convert_to_numpy(w) for w in model.trainable_weights})
    keras.utils.set_random_seed(0)  # the same start on both ranks, then `fit` on each shard
    model = get_model()
    model.compile(optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(True))
    shard = list(sampler)
    x, y = dataset.tensors[0].numpy()[shard], dataset.tensors[1].numpy()[shard]
    model.fit(x, y, batch_size=4, epochs=1, verbose=0, shuffle=False)
    np.save(f"fit{rank}.npy", keras.ops.convert_to_numpy(model.trainable_weights[-2]))
    torch.distributed.destroy_process_group()


if __name__ == "__main__":
    with socket.socket() as s:
        s.bind(("localhost", 0))
        port = s.getsockname()[1]
    torch.multiprocessing.start_processes(
        per_device_launch_fn, args=(2, port), nprocs=2, join=True, start_method="fork"
    )
"""


def test_ddp_over_a_functional_model_keeps_ranks_identical(tmp_path):
    # The guide's loop: DistributedDataParallel over a functional model (conv, batch norm,
    # dropout), a torch optimizer on `model.parameters()`, a DistributedSampler per rank.
    # As under Keras 3.15, the trainable weights are the same on both ranks after training.
    (tmp_path / "ddp_program.py").write_text(_DDP_PROGRAM)
    _run_python("import runpy; runpy.run_path('ddp_program.py', run_name='__main__')", tmp_path)
    rank0, rank1 = np.load(tmp_path / "rank0.npz"), np.load(tmp_path / "rank1.npz")
    assert float(rank0["moved"]) > 1e-3  # it trained
    names = [name for name in rank0.files if name != "moved"]
    assert len(names) == 6  # conv kernel, batch-norm beta, two dense kernels and biases
    for name in names:
        np.testing.assert_array_equal(rank0[name], rank1[name], err_msg=name)
    # `model.fit` in each process trains each rank on its own shard: Keras 3.15's torch
    # trainer does not all-reduce gradients (the guide wraps the model in DDP for that).
    assert not np.allclose(np.load(tmp_path / "fit0.npy"), np.load(tmp_path / "fit1.npy"))


def test_registering_a_class_without_get_config_gives_keras_message():
    class NoConfig:
        pass

    with pytest.raises(
        ValueError,
        match=r"^Cannot register a class that does not have a get_config\(\) method\.",
    ):
        keras.saving.register_keras_serializable(package="seq_ports")(NoConfig)
