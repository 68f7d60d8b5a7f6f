"""Keras 3 structured-data and text programs ported by changing the import.

Each program ran twice, with `import keras` (Keras 3.15, torch backend) and with
`import tritonlayers as keras`, on small synthetic data: "Customizing what happens in fit()
with PyTorch", "Imbalanced classification: credit card fraud detection", "Timeseries
anomaly detection using an Autoencoder" and "Text generation with a miniature GPT". The
names, orders and log lines below are what Keras printed; numbers come from numpy formulas
on the model's own weights, checked against Keras's numbers.
"""

import contextlib
import io

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers, ops

RNG = np.random.default_rng(0)
FEATURES = RNG.random((64, 32)).astype("float32")
TARGETS = RNG.random((64, 1)).astype("float32")
SAMPLE_WEIGHTS = RNG.random((64, 1)).astype("float32")


def _printed(fn) -> str:
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        fn()
    return text.getvalue()


def _apply_gradients(model) -> None:
    weights = list(model.trainable_weights)
    with torch.no_grad():
        model.optimizer.apply([v.value.grad for v in weights], weights)


class CustomModel(keras.Model):
    """The guide's first `train_step`, with its `sample_weight` variant folded in."""

    def train_step(self, data):
        if len(data) == 3:
            x, y, sample_weight = data
        else:
            sample_weight = None
            x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred, sample_weight=sample_weight)
        loss.backward()
        _apply_gradients(self)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred, sample_weight=sample_weight)
        return {m.name: m.result() for m in self.metrics}


class CustomTestModel(keras.Model):
    """The guide's `test_step`."""

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _dense(cls, kernel_initializer="glorot_uniform"):
    inputs = keras.Input(shape=(32,))
    return cls(inputs, layers.Dense(1, kernel_initializer=kernel_initializer)(inputs))


def _errors(model) -> np.ndarray:
    kernel, bias = (w.astype("float64") for w in model.get_weights())
    return FEATURES.astype("float64") @ kernel + bias - TARGETS


# ----------------------------------------------- 1. customizing fit() with PyTorch


def test_functional_subclass_is_named_after_its_class():
    # Keras 3.15: CustomModel(inputs, outputs) is "custom_model" (its summary's title),
    # a plain functional model "functional".
    inputs = keras.Input((3,))
    outputs = layers.Dense(1)(inputs)
    first, second = CustomModel(inputs, outputs), CustomModel(inputs, outputs)
    assert second.name == first.name + "_1"
    assert first.name.startswith("custom_model")
    assert keras.Model(inputs, outputs).name.startswith("functional")
    assert f'Model: "{first.name}"' in _printed(first.summary)


def test_compiled_metrics_are_listed_as_one_compile_metrics_entry():
    # Keras 3.15 lists ['loss', 'compile_metrics'] before and after fit; the metrics come
    # back flat from get_metrics_result, and compile() without metrics lists only 'loss'.
    model = _dense(keras.Model)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert model.metrics_names == ["loss", "compile_metrics"]
    model.fit(FEATURES, TARGETS, epochs=1, batch_size=16, verbose=0)
    assert model.metrics_names == ["loss", "compile_metrics"]
    assert list(model.get_metrics_result()) == ["loss", "mae"]
    assert model.evaluate(FEATURES, TARGETS, verbose=0) == list(
        model.evaluate(FEATURES, TARGETS, verbose=0, return_dict=True).values()
    )
    empty = _dense(keras.Model)
    empty.compile(loss="mse", metrics=[])
    assert empty.metrics_names == ["loss", "compile_metrics"]
    empty.compile(loss="mse")
    bare = _dense(keras.Model)
    bare.compile(loss="mse")
    assert bare.metrics_names == ["loss"]


def test_guide_train_step_logs_compile_metrics_before_loss():
    # Keras 3.15 sorts the step's logs by key before flattening them: "compile_metrics"
    # (holding mae) comes before "loss", in History and in the epoch line.
    model = _dense(CustomModel, "zeros")
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    printed = _printed(
        lambda: model.fit(FEATURES, TARGETS, epochs=1, batch_size=16, shuffle=False, verbose=2)
    )
    history = model.history.history
    assert list(history) == ["mae", "loss"]
    assert " - mae: " in printed and printed.index(" - mae: ") < printed.index(" - loss: ")
    np.testing.assert_allclose(history["mae"], [np.mean(TARGETS)], rtol=1e-5)
    np.testing.assert_allclose(history["loss"], [np.mean(TARGETS**2)], rtol=1e-5)


def test_guide_train_step_with_validation_logs_val_entries_after():
    # Keras 3.15: ['mae', 'loss', 'val_loss', 'val_mae'].
    model = _dense(CustomModel)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    history = model.fit(
        FEATURES, TARGETS, epochs=1, batch_size=16, validation_data=(FEATURES, TARGETS), verbose=0
    )
    assert list(history.history) == ["mae", "loss", "val_loss", "val_mae"]


def test_guide_sample_weight_train_step_weighs_the_loss_not_the_metrics():
    # In Keras 3.15 `compile_metrics.update_state(y, y_pred, sample_weight)` weighs only
    # `weighted_metrics`: mae stays the plain mean while the loss is weighted.
    model = _dense(CustomModel, "zeros")
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    history = model.fit(
        FEATURES,
        TARGETS,
        sample_weight=SAMPLE_WEIGHTS,
        epochs=1,
        batch_size=16,
        shuffle=False,
        verbose=0,
    )
    errors = _errors(model)
    np.testing.assert_allclose(history.history["mae"], [np.mean(np.abs(errors))], rtol=1e-5)
    weighted = np.mean(errors**2 * SAMPLE_WEIGHTS)
    np.testing.assert_allclose(history.history["loss"], [weighted], rtol=1e-5)


def test_custom_batch_logs_reach_callbacks_flat_and_sorted():
    # Keras 3.15 hands on_train_batch_end ['mae', 'loss'] (pythonify_logs), not the nested
    # dict the step returned.
    seen = []

    class Keys(keras.callbacks.Callback):
        def on_train_batch_end(self, batch, logs=None):
            seen.append(list(logs))

    model = _dense(CustomModel)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.fit(FEATURES, TARGETS, epochs=1, batch_size=32, callbacks=[Keys()], verbose=0)
    assert seen == [["mae", "loss"], ["mae", "loss"]]


def test_guide_test_step_returns_its_logs_sorted_and_prints_them_by_name():
    # Keras 3.15: return_dict gives {'mae', 'loss'} (sorted before flattening); the
    # progress line, sorted once more, prints loss then mae; the list is [loss, mae].
    model = _dense(CustomTestModel)
    model.compile(loss="mse", metrics=["mae"])
    errors = _errors(model)
    expected = {"mae": np.mean(np.abs(errors)), "loss": np.mean(errors**2)}
    logs = {}
    printed = _printed(
        lambda: logs.update(model.evaluate(FEATURES, TARGETS, verbose=2, return_dict=True))
    )
    assert list(logs) == ["mae", "loss"]
    np.testing.assert_allclose([logs["mae"], logs["loss"]], list(expected.values()), rtol=1e-5)
    assert printed.index(" - loss: ") < printed.index(" - mae: ")
    values = model.evaluate(FEATURES, TARGETS, verbose=0)
    np.testing.assert_allclose(values, [expected["loss"], expected["mae"]], rtol=1e-5)


class TrackedModel(keras.Model):
    """The guide's second example: its own trackers, compiled without a loss."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()
        self.batches = []

    def train_step(self, data):
        self.batches.append(len(data))
        x, y = data[0], data[1]
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.loss_fn(y, y_pred)
        loss.backward()
        _apply_gradients(self)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    def test_step(self, data):
        self.batches.append(len(data))
        x, y = data[0], data[1]
        y_pred = self(x, training=False)
        self.loss_tracker.update_state(self.loss_fn(y, y_pred))
        self.mae_metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]


def test_train_and_test_on_batch_run_the_overridden_steps():
    # Keras 3.15 calls the model's own train_step/test_step with (x, y, sample_weight)
    # (a 3-tuple even without weights) and returns their logs; compiled without a loss,
    # the built-in steps would have nothing to compute.
    model = _dense(TrackedModel, "zeros")
    model.compile(optimizer=keras.optimizers.SGD(0.0))
    errors = _errors(model)
    expected = [np.mean(errors**2), np.mean(np.abs(errors))]
    logs = model.train_on_batch(FEATURES, TARGETS, return_dict=True)
    assert list(logs) == ["loss", "mae"]
    np.testing.assert_allclose(list(logs.values()), expected, rtol=1e-5)
    np.testing.assert_allclose(model.test_on_batch(FEATURES, TARGETS), expected, rtol=1e-5)
    assert model.batches == [3, 3]


def test_train_on_batch_returns_the_custom_steps_logs_sorted():
    # Keras 3.15: {'mae': ..., 'loss': ...} ("compile_metrics" sorts before "loss").
    model = _dense(CustomModel)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    assert list(model.train_on_batch(FEATURES, TARGETS, return_dict=True)) == ["mae", "loss"]


def test_functional_subclass_loads_as_itself_in_a_fresh_process(tmp_path):
    # Keras 3.15 rebuilds the saved CustomModel as the class passed in custom_objects, even
    # one never instantiated (a fresh process): fit then runs its own train_step.
    model = _dense(CustomModel)
    model.compile(optimizer="adam", loss="mse", metrics=["mae"])
    model.save(tmp_path / "custom.keras")

    class FreshCustomModel(keras.Model):
        def train_step(self, data):
            return {"custom": ops.convert_to_tensor(1.0)}

    loaded = keras.models.load_model(
        tmp_path / "custom.keras", custom_objects={"CustomModel": FreshCustomModel}
    )
    assert type(loaded) is FreshCustomModel
    assert loaded.name == model.name
    history = loaded.fit(FEATURES, TARGETS, epochs=1, verbose=0)
    assert history.history == {"custom": [1.0]}


def test_functional_subclass_with_its_own_init_is_rebuilt_from_its_config(tmp_path):
    # Keras 3.15 calls such a class with the config as keyword arguments (the graph keys
    # are ignored: its __init__ builds the graph) and loads the weights into it.
    class BuildsItself(keras.Model):
        def __init__(self, **kwargs):
            inputs = keras.Input((32,))
            super().__init__(inputs, layers.Dense(1)(inputs), **kwargs)

    model = BuildsItself(name="builds_itself")
    model.save(tmp_path / "builds_itself.keras")
    loaded = keras.models.load_model(
        tmp_path / "builds_itself.keras", custom_objects={"BuildsItself": BuildsItself}
    )
    assert type(loaded) is BuildsItself and loaded.name == "builds_itself"
    np.testing.assert_allclose(
        loaded.predict(FEATURES, verbose=0), model.predict(FEATURES, verbose=0), rtol=1e-6
    )


def test_progress_bar_lists_custom_step_logs_in_their_first_seen_order():
    # Keras 3.15's bar (verbose=1) takes each batch's logs as CallbackList hands them,
    # sorted once: "mae" before "loss" for the guide's steps, in fit and in evaluate.
    trainer, evaluator = _dense(CustomModel), _dense(CustomTestModel)
    trainer.compile(optimizer="adam", loss="mse", metrics=["mae"])
    evaluator.compile(loss="mse", metrics=["mae"])
    trained = _printed(lambda: trainer.fit(FEATURES, TARGETS, batch_size=32, verbose=1))
    evaluated = _printed(lambda: evaluator.evaluate(FEATURES, TARGETS, batch_size=32, verbose=1))
    for printed in (trained, evaluated):
        last = printed.replace("\r", "\n").strip().splitlines()[-1]
        assert last.index(" - mae: ") < last.index(" - loss: "), last


def test_trackers_held_by_the_model_are_not_among_its_variables(tmp_path):
    # Keras 3.15: the guide model's variables are its Dense kernel and bias only (metric
    # variables are listed apart and not saved); the saved model loads back.
    model = _dense(TrackedModel)
    model.compile(optimizer="adam")
    model.fit(FEATURES, TARGETS, epochs=1, batch_size=32, verbose=0)
    assert [tuple(v.shape) for v in model.variables] == [(32, 1), (1,)]
    assert model.non_trainable_variables == []
    model.save(tmp_path / "tracked.keras")
    loaded = keras.models.load_model(
        tmp_path / "tracked.keras", custom_objects={"TrackedModel": TrackedModel}
    )
    assert [m.name for m in loaded.metrics] == ["loss", "mae"]
    np.testing.assert_allclose(
        loaded.predict(FEATURES, verbose=0), model.predict(FEATURES, verbose=0), rtol=1e-6
    )


def test_weights_files_that_saved_tracker_state_still_load(tmp_path):
    # Files written while held metrics' state was saved carry "total"/"count" entries
    # beside the weights: they are skipped, while any other unknown entry is still refused.
    from tritonlayers.saving import safetensors_io

    model = _dense(TrackedModel)
    model.compile(optimizer="adam")
    model.fit(FEATURES, TARGETS, epochs=1, batch_size=32, verbose=0)
    path = tmp_path / "tracked.weights.safetensors"
    model.save_weights(path)
    tensors, metadata = safetensors_io.load_file(path)
    legacy = {"total": torch.zeros(()), "count": torch.zeros(())}
    legacy.update({"total_1": torch.zeros(()), "count_1": torch.zeros(())})
    safetensors_io.save_file({**tensors, **legacy}, path, metadata)
    fresh = _dense(TrackedModel)
    fresh.load_weights(path)
    np.testing.assert_allclose(
        fresh.predict(FEATURES, verbose=0), model.predict(FEATURES, verbose=0), rtol=1e-6
    )
    safetensors_io.save_file({**tensors, **legacy, "stray": torch.zeros(())}, path, metadata)
    with pytest.raises(ValueError, match="stray: in the file but not in the model"):
        fresh.load_weights(path)


# ------------------------------------------------------ 4. text generation with a miniature GPT

VOCAB, MAXLEN, EMBED = 20, 6, 8


def causal_attention_mask(batch_size, n_dest, n_src, dtype):
    """The example's explicit mask: tiled to the batch with `batch_size` from `ops.shape`."""
    i = ops.arange(n_dest)[:, None]
    j = ops.arange(n_src)
    mask = ops.cast(i >= j - n_src + n_dest, dtype)
    mask = ops.reshape(mask, [1, n_dest, n_src])
    mult = ops.concatenate([ops.expand_dims(batch_size, -1), ops.convert_to_tensor([1, 1])], 0)
    return ops.tile(mask, mult)


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, explicit_mask=False):
        super().__init__()
        self.explicit_mask = explicit_mask
        self.att = layers.MultiHeadAttention(num_heads, embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)

    def call(self, inputs):
        if self.explicit_mask:
            batch_size, seq_len = ops.shape(inputs)[0], ops.shape(inputs)[1]
            mask = causal_attention_mask(batch_size, seq_len, seq_len, "bool")
            attention_output = self.att(inputs, inputs, attention_mask=mask)
        else:
            attention_output = self.att(inputs, inputs, use_causal_mask=True)
        out1 = self.layernorm1(inputs + attention_output)
        return self.layernorm2(out1 + self.ffn(out1))


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        positions = self.pos_emb(ops.arange(0, ops.shape(x)[-1], 1))
        return self.token_emb(x) + positions


def _gpt(explicit_mask=False):
    inputs = layers.Input(shape=(MAXLEN,), dtype="int32")
    x = TokenAndPositionEmbedding(MAXLEN, VOCAB, EMBED)(inputs)
    x = TransformerBlock(EMBED, 2, 16, explicit_mask)(x)
    outputs = layers.Dense(VOCAB)(x)
    model = keras.Model(inputs=inputs, outputs=[outputs, x])
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile("adam", loss=[loss_fn, None])
    return model


TOKENS = RNG.integers(1, VOCAB, size=(8, MAXLEN)).astype("int32")
NEXT_TOKENS = np.concatenate([TOKENS[:, 1:], np.zeros((8, 1), "int32")], 1)


def test_explicit_causal_mask_from_ops_shape_builds_a_functional_model():
    # Keras 3.15 traces the block (falling back from the meta device to real tensors when
    # `ops.tile` reads the batch size back) and gets the same outputs as use_causal_mask.
    implicit, explicit = _gpt(), _gpt(explicit_mask=True)
    assert [tuple(t.shape) for t in explicit.outputs] == [(None, MAXLEN, VOCAB), (None, MAXLEN, 8)]
    explicit.set_weights(implicit.get_weights())
    np.testing.assert_allclose(
        explicit.predict(TOKENS, verbose=0)[0], implicit.predict(TOKENS, verbose=0)[0], atol=1e-5
    )


def test_tracing_fallback_changes_no_variable():
    class CountsRows(layers.Layer):
        def build(self, input_shape):
            self.calls = self.add_weight(shape=(), initializer="zeros", trainable=False)

        def call(self, x):
            self.calls.assign_add(1.0)
            rows = int(ops.sum(ops.ones_like(x[:, 0])))  # read back: fake tensors cannot
            return ops.tile(x[:1], [rows, 1])

    layer = CountsRows()
    output = layer(keras.Input((3,)))
    assert output.shape == (None, 3)
    assert float(layer.calls.numpy()) == 0.0


def test_loss_list_with_none_takes_one_target_for_the_output_with_a_loss():
    # Keras 3.15 fits and evaluates the example's `loss=[loss_fn, None]` on a single
    # target array; only "loss" is logged.
    model = _gpt()
    logits = model.predict(TOKENS, verbose=0)[0].astype("float64")
    shifted = logits - logits.max(-1, keepdims=True)
    log_probs = shifted - np.log(np.exp(shifted).sum(-1, keepdims=True))
    expected = -np.take_along_axis(log_probs, NEXT_TOKENS[..., None], -1).mean()
    np.testing.assert_allclose(model.evaluate(TOKENS, NEXT_TOKENS, verbose=0), expected, rtol=1e-5)
    history = model.fit(TOKENS, NEXT_TOKENS, epochs=1, batch_size=4, verbose=0)
    assert list(history.history) == ["loss"]
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    model.compile("adam", loss=[loss_fn, None], metrics=[["accuracy"], None])
    history = model.fit(TOKENS, NEXT_TOKENS, epochs=1, batch_size=4, verbose=0)
    assert list(history.history) == [f"{model.output_names[0]}_accuracy", "loss"]
