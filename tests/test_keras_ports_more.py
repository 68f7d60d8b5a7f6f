"""More Keras 3 programs ported by changing the import, compared with Keras 3.15 (torch).

Each program was run twice, once with `import keras` (Keras 3.15, torch backend) and once
with `import tritonlayers as keras`; the printed summaries, log names and their order below
are what Keras printed. The numbers come from numpy formulas on the model's own
predictions. Regression tests for the differences found that way sit next to the program
that showed them.
"""

import contextlib
import io
import re

import numpy as np
import pytest
import torch
from test_keras_ports import GAN

import tritonlayers as keras
from tritonlayers import layers, ops

RNG = np.random.default_rng(0)


def _summary(model) -> str:
    text = io.StringIO()
    with contextlib.redirect_stdout(text):
        model.summary()
    return text.getvalue()


def _max_diff(a, b) -> float:
    if isinstance(a, dict):
        return max(_max_diff(a[key], b[key]) for key in a)
    return float(np.abs(np.asarray(a) - np.asarray(b)).max())


# ----------------------------------------------------- 1. keras.io-style image classifier

IMAGE_CLASSIFIER_SUMMARY = """\
Model: "img_clf"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ input_layer (InputLayer)        │ (None, 32, 32, 3)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ rescaling (Rescaling)           │ (None, 32, 32, 3)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ random_flip (RandomFlip)        │ (None, 32, 32, 3)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ random_rotation                 │ (None, 32, 32, 3)      │             0 │
│ (RandomRotation)                │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d (Conv2D)                 │ (None, 32, 32, 8)      │           216 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization             │ (None, 32, 32, 8)      │            32 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ activation (Activation)         │ (None, 32, 32, 8)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 16, 16, 8)      │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 16, 16, 16)     │         1,152 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ batch_normalization_1           │ (None, 16, 16, 16)     │            64 │
│ (BatchNormalization)            │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ activation_1 (Activation)       │ (None, 16, 16, 16)     │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d_1 (MaxPooling2D)  │ (None, 8, 8, 16)       │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ global_average_pooling2d        │ (None, 16)             │             0 │
│ (GlobalAveragePooling2D)        │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout (Dropout)               │ (None, 16)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 10)             │           170 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 1,634 (6.38 KB)
 Trainable params: 1,586 (6.20 KB)
 Non-trainable params: 48 (192.00 B)
"""

TEXT_TRANSFORMER_SUMMARY = """\
Model: "functional_1"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ input_layer (InputLayer)        │ (None, 12)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ token_and_position_embedding    │ (None, 12, 16)         │           992 │
│ (TokenAndPositionEmbedding)     │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ transformer_block               │ (None, 12, 16)         │         3,296 │
│ (TransformerBlock)              │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ global_average_pooling1d        │ (None, 16)             │             0 │
│ (GlobalAveragePooling1D)        │                        │               │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout_3 (Dropout)             │ (None, 16)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_2 (Dense)                 │ (None, 20)             │           340 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout_4 (Dropout)             │ (None, 20)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense_3 (Dense)                 │ (None, 2)              │            42 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 4,670 (18.24 KB)
 Trainable params: 4,670 (18.24 KB)
 Non-trainable params: 0 (0.00 B)
"""


class ImageBatches(keras.utils.PyDataset):
    def __init__(self, x, y, batch_size, **kwargs):
        super().__init__(**kwargs)
        self.x, self.y, self.batch_size = x, y, batch_size

    def __len__(self):
        return int(np.ceil(len(self.x) / self.batch_size))

    def __getitem__(self, index):
        start = index * self.batch_size
        return self.x[start : start + self.batch_size], self.y[start : start + self.batch_size]


def image_classifier():
    inputs = keras.Input((32, 32, 3))
    x = layers.Rescaling(1.0 / 255)(inputs)
    x = layers.RandomFlip("horizontal")(x)
    x = layers.RandomRotation(0.1)(x)
    for filters in (8, 16):
        x = layers.Conv2D(filters, 3, padding="same", use_bias=False)(x)
        x = layers.BatchNormalization()(x)
        x = layers.Activation("relu")(x)
        x = layers.MaxPooling2D(2)(x)
    x = layers.GlobalAveragePooling2D()(x)
    x = layers.Dropout(0.25)(x)
    outputs = layers.Dense(10)(x)
    return keras.Model(inputs, outputs, name="img_clf")


IMAGES = (RNG.random((48, 32, 32, 3)) * 255).astype("float32")
IMAGE_LABELS = RNG.integers(0, 10, size=48)


def test_image_classifier_summary_prints_the_table_keras_prints():
    keras.utils.clear_session(free_memory=False)
    assert _summary(image_classifier()) == IMAGE_CLASSIFIER_SUMMARY


def test_image_classifier_fits_a_py_dataset_with_keras_callbacks(tmp_path):
    model = image_classifier()
    model.compile(
        optimizer=keras.optimizers.Adam(1e-2),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=["accuracy"],
    )
    checkpoint = tmp_path / "best.keras"
    callbacks = [
        keras.callbacks.EarlyStopping(monitor="val_loss", patience=5, restore_best_weights=True),
        keras.callbacks.ReduceLROnPlateau(monitor="val_loss", factor=0.5, patience=1),
        keras.callbacks.ModelCheckpoint(checkpoint, save_best_only=True, monitor="val_loss"),
    ]
    history = model.fit(
        ImageBatches(IMAGES, IMAGE_LABELS, 16),
        validation_data=ImageBatches(IMAGES[:16], IMAGE_LABELS[:16], 16),
        epochs=3,
        callbacks=callbacks,
        verbose=0,
    )
    # Keras 3.15 logged exactly these keys for this program.
    assert list(history.history) == [
        "accuracy", "loss", "val_accuracy", "val_loss", "learning_rate",
    ]  # fmt: skip
    assert keras.models.load_model(checkpoint).predict(IMAGES[:5], verbose=0).shape == (5, 10)


def test_image_classifier_copies_saves_and_reloads_to_the_same_predictions(tmp_path):
    model = image_classifier()
    model.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    model.fit(IMAGES, IMAGE_LABELS, batch_size=16, epochs=1, verbose=0)
    expected = model.predict(IMAGES, verbose=0)
    logs = model.evaluate(IMAGES, IMAGE_LABELS, verbose=0, return_dict=True)
    clone = keras.models.clone_model(model)
    clone.set_weights(model.get_weights())
    clone.compile(
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True), metrics=["accuracy"]
    )
    assert _max_diff(clone.predict(IMAGES, verbose=0), expected) == 0.0
    assert clone.evaluate(IMAGES, IMAGE_LABELS, verbose=0, return_dict=True) == logs
    model.save(tmp_path / "m.keras")
    assert (
        _max_diff(
            keras.models.load_model(tmp_path / "m.keras").predict(IMAGES, verbose=0), expected
        )
        == 0.0
    )
    model.save_weights(tmp_path / "m.weights.safetensors")
    other = keras.models.clone_model(model)
    other.load_weights(tmp_path / "m.weights.safetensors")
    assert _max_diff(other.predict(IMAGES, verbose=0), expected) == 0.0


def test_epoch_line_prints_learning_rate_after_the_metrics_as_keras_does(capsys):
    # Keras prints the sorted logs, then what callbacks added (ReduceLROnPlateau's
    # learning_rate, then a user callback's keys in the order it added them).
    class AddsKeys(keras.callbacks.Callback):
        def on_epoch_end(self, epoch, logs=None):
            logs["zz_custom"] = 1.0
            logs["aa_custom"] = 2.0

    model = keras.Sequential([keras.Input((4,)), layers.Dense(1, activation="sigmoid")])
    model.compile(optimizer="sgd", loss="binary_crossentropy", metrics=["accuracy", "mse"])
    x, y = RNG.random((32, 4)), (RNG.random(32) > 0.5).astype("float32")
    model.fit(
        x, y, epochs=1, batch_size=8, verbose=2, validation_split=0.25,
        callbacks=[keras.callbacks.ReduceLROnPlateau(monitor="loss"), AddsKeys()],
    )  # fmt: skip
    names = re.findall(r" - (\w+): ", capsys.readouterr().out)
    assert names == [
        "accuracy", "loss", "mse", "val_accuracy", "val_loss", "val_mse",
        "learning_rate", "zz_custom", "aa_custom",
    ]  # fmt: skip


# ------------------------------------------- 2. transformer block in a text classifier


@keras.saving.register_keras_serializable(package="test_keras_ports_more")
class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1, **kwargs):
        super().__init__(**kwargs)
        self.embed_dim, self.num_heads, self.ff_dim, self.rate = embed_dim, num_heads, ff_dim, rate
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs, training=False):
        attn_output = self.dropout1(self.att(inputs, inputs), training=training)
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.dropout2(self.ffn(out1), training=training)
        return self.layernorm2(out1 + ffn_output)

    def get_config(self):
        config = super().get_config()
        config.update(
            embed_dim=self.embed_dim, num_heads=self.num_heads, ff_dim=self.ff_dim, rate=self.rate
        )
        return config


@keras.saving.register_keras_serializable(package="test_keras_ports_more")
class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim, **kwargs):
        super().__init__(**kwargs)
        self.maxlen, self.vocab_size, self.embed_dim = maxlen, vocab_size, embed_dim
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        positions = self.pos_emb(ops.arange(start=0, stop=ops.shape(x)[-1], step=1))
        return self.token_emb(x) + positions

    def get_config(self):
        config = super().get_config()
        config.update(maxlen=self.maxlen, vocab_size=self.vocab_size, embed_dim=self.embed_dim)
        return config


TOKENS = RNG.integers(0, 50, size=(48, 12))
TOKEN_LABELS = (TOKENS[:, 0] > 25).astype("int64")


def text_transformer():
    inputs = layers.Input(shape=(12,))
    x = TokenAndPositionEmbedding(12, 50, 16)(inputs)
    x = TransformerBlock(16, 2, 32)(x)
    x = layers.GlobalAveragePooling1D()(x)
    x = layers.Dropout(0.1)(x)
    x = layers.Dense(20, activation="relu")(x)
    x = layers.Dropout(0.1)(x)
    outputs = layers.Dense(2, activation="softmax")(x)
    return keras.Model(inputs=inputs, outputs=outputs)


def test_text_transformer_summary_is_keras_s_and_names_the_model_after_its_sequential():
    # Keras builds the block's Sequential as an inner functional model, which takes the
    # name "functional": the classifier itself is "functional_1".
    keras.utils.clear_session(free_memory=False)
    assert _summary(text_transformer()) == TEXT_TRANSFORMER_SUMMARY


def test_sequential_build_takes_an_automatic_functional_name_as_in_keras():
    keras.utils.clear_session(free_memory=False)
    keras.Sequential([keras.Input((3,)), layers.Dense(2), layers.Dense(2)])
    unbuilt = keras.Sequential([layers.Dense(2)])
    inputs = keras.Input((3,))
    # Keras 3.15: "functional_1" here, and "functional_3" after one more build.
    assert keras.Model(inputs, layers.Dense(1)(inputs)).name == "functional_1"
    unbuilt.build((None, 3))
    assert keras.Model(inputs, layers.Dense(1)(inputs)).name == "functional_3"


def test_text_transformer_trains_and_reloads_to_the_same_predictions(tmp_path):
    model = text_transformer()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(TOKENS, TOKEN_LABELS, batch_size=16, epochs=3, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    assert len(model.weights) == 22  # as Keras counts them for this program
    expected = model.predict(TOKENS, verbose=0)
    assert expected.shape == (48, 2)
    model.save(tmp_path / "t.keras")
    reloaded = keras.models.load_model(tmp_path / "t.keras")
    assert _max_diff(reloaded.predict(TOKENS, verbose=0), expected) == 0.0
    fresh = text_transformer()
    fresh.set_weights(model.get_weights())
    assert _max_diff(fresh.predict(TOKENS, verbose=0), expected) == 0.0


FEATURE_EXTRACTOR_SUMMARY = """\
Model: "functional_1"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ input_layer (InputLayer)        │ (None, 8, 8, 3)        │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ c1 (Conv2D)                     │ (None, 6, 6, 4)        │           112 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ c2 (Conv2D)                     │ (None, 4, 4, 4)        │           148 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 64)             │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ d (Dense)                       │ (None, 2)              │           130 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 390 (1.52 KB)
 Trainable params: 390 (1.52 KB)
 Non-trainable params: 0 (0.00 B)
"""


def test_feature_extractor_with_outputs_along_one_chain_prints_as_a_sequence():
    # keras.io's "feature extraction with a Sequential model": Keras 3.15 prints it without
    # the "Connected to" column, though it has several outputs.
    keras.utils.clear_session(free_memory=False)
    model = keras.Sequential(
        [
            keras.Input((8, 8, 3)),
            layers.Conv2D(4, 3, name="c1"),
            layers.Conv2D(4, 3, name="c2"),
            layers.Flatten(),
            layers.Dense(2, name="d"),
        ]
    )
    extractor = keras.Model(inputs=model.inputs, outputs=[layer.output for layer in model.layers])
    features = extractor(np.ones((2, 8, 8, 3), "float32"))
    assert [tuple(f.shape) for f in features] == [(2, 6, 6, 4), (2, 4, 4, 4), (2, 64), (2, 2)]
    assert _summary(extractor) == FEATURE_EXTRACTOR_SUMMARY


# ------------------------------------------ 3. two inputs, two named heads, dict losses

TITLES = RNG.random((64, 10)).astype("float32")
BODIES = RNG.random((64, 6)).astype("float32")
PRIORITIES = RNG.random((64, 1)).astype("float32")
DEPARTMENTS = RNG.integers(0, 4, size=(64,))
TICKETS = {"title": TITLES, "body": BODIES}
TICKET_TARGETS = {"priority": PRIORITIES, "department": DEPARTMENTS}


def ticket_model(outputs_as="dict"):
    title = keras.Input(shape=(10,), name="title")
    body = keras.Input(shape=(6,), name="body")
    x = layers.Concatenate()(
        [layers.Dense(8, activation="relu")(title), layers.Dense(8, activation="relu")(body)]
    )
    priority = layers.Dense(1, name="priority")(x)
    department = layers.Dense(4, name="department")(x)
    outputs = (
        {"priority": priority, "department": department}
        if outputs_as == "dict"
        else [priority, department]
    )
    model = keras.Model(inputs=[title, body], outputs=outputs)
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-2),
        loss={
            "priority": keras.losses.BinaryCrossentropy(from_logits=True),
            "department": keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
        metrics={
            "priority": ["mae"],
            "department": ["accuracy", keras.metrics.SparseTopKCategoricalAccuracy(k=2)],
        },
    )
    return model


def keras_io_ticket_model():
    """The functional API guide's ticket classifier, with small sizes."""
    title_input = keras.Input(shape=(None,), name="title")
    body_input = keras.Input(shape=(None,), name="body")
    tags_input = keras.Input(shape=(12,), name="tags")
    title_features = layers.LSTM(16)(layers.Embedding(100, 8)(title_input))
    body_features = layers.LSTM(4)(layers.Embedding(100, 8)(body_input))
    x = layers.concatenate([title_features, body_features, tags_input])
    priority_pred = layers.Dense(1, name="priority")(x)
    department_pred = layers.Dense(4, name="department")(x)
    return keras.Model(
        inputs=[title_input, body_input, tags_input],
        outputs={"priority": priority_pred, "department": department_pred},
    )


def test_branching_model_lists_layers_and_weights_in_keras_order():
    # Keras lists the deepest layers first, ties in the order a walk from the outputs
    # reaches them: both embeddings before both LSTMs, the `tags` input after them.
    keras.utils.clear_session(free_memory=False)
    model = keras_io_ticket_model()
    assert [layer.name for layer in model.layers] == [
        "title", "body", "embedding", "embedding_1", "lstm", "lstm_1", "tags",
        "concatenate", "department", "priority",
    ]  # fmt: skip
    assert [w.path for w in model.weights] == [
        "embedding/embeddings", "embedding_1/embeddings",
        "lstm/lstm_cell/kernel", "lstm/lstm_cell/recurrent_kernel", "lstm/lstm_cell/bias",
        "lstm_1/lstm_cell/kernel", "lstm_1/lstm_cell/recurrent_kernel", "lstm_1/lstm_cell/bias",
        "department/kernel", "department/bias", "priority/kernel", "priority/bias",
    ]  # fmt: skip
    assert model.get_layer(index=4).name == "lstm"


def test_operations_on_keras_tensors_are_rows_of_the_summary_but_not_layers():
    keras.utils.clear_session(free_memory=False)
    inputs = keras.Input((4,), name="i")
    hidden = layers.Dense(4, name="d")(inputs) * 2.0
    outputs = layers.Dense(2, name="f")(ops.concatenate([hidden, inputs], axis=-1))
    model = keras.Model(inputs, outputs)
    # Keras 3.15: layers ['i', 'd', 'f']; the summary still shows the two operations.
    assert [layer.name for layer in model.layers] == ["i", "d", "f"]
    assert [op.name for op in model.operations] == ["i", "d", "multiply", "concatenate", "f"]
    assert "│ multiply (Multiply) │" in _summary(model)
    with pytest.raises(ValueError, match="No such layer: multiply"):
        model.get_layer("multiply")


def _bce_from_logits(logits, y):
    return np.mean(np.maximum(logits, 0) - logits * y + np.log1p(np.exp(-np.abs(logits))))


def _sparse_cce_from_logits(logits, y):
    logits = logits - logits.max(-1, keepdims=True)
    log_probs = logits - np.log(np.exp(logits).sum(-1, keepdims=True))
    return -np.mean(log_probs[np.arange(len(y)), y])


def test_ticket_model_loss_is_the_weighted_sum_of_each_heads_loss():
    model = ticket_model()
    history = model.fit(TICKETS, TICKET_TARGETS, epochs=3, batch_size=16, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    logs = model.evaluate(TICKETS, TICKET_TARGETS, verbose=0, return_dict=True)
    predictions = {k: v.astype("float64") for k, v in model.predict(TICKETS, verbose=0).items()}
    priority_loss = _bce_from_logits(predictions["priority"], PRIORITIES)
    department_loss = _sparse_cce_from_logits(predictions["department"], DEPARTMENTS)
    np.testing.assert_allclose(logs["priority_loss"], priority_loss, rtol=1e-5)
    np.testing.assert_allclose(logs["department_loss"], department_loss, rtol=1e-5)
    np.testing.assert_allclose(logs["loss"], priority_loss + 0.2 * department_loss, rtol=1e-5)
    top2 = np.argsort(-predictions["department"], axis=-1)[:, :2]
    np.testing.assert_allclose(
        logs["department_sparse_top_k_categorical_accuracy"],
        np.mean((top2 == DEPARTMENTS[:, None]).any(-1)),
        rtol=1e-6,
    )


@pytest.mark.parametrize("outputs_as", ["dict", "list"])
def test_ticket_model_evaluate_lists_values_in_keras_order(outputs_as):
    # Keras 3.15 lists the loss, each head's loss (in the loss dict's order for dict
    # outputs, in output order for a list), then the compiled metrics by name.
    model = ticket_model(outputs_as)
    logs = model.evaluate(TICKETS, TICKET_TARGETS, verbose=0, return_dict=True)
    values = model.evaluate(TICKETS, TICKET_TARGETS, verbose=0)
    order = [
        "loss", "priority_loss", "department_loss", "department_accuracy",
        "department_sparse_top_k_categorical_accuracy", "priority_mae",
    ]  # fmt: skip
    assert values == [logs[name] for name in order]


def test_dict_outputs_list_their_losses_in_the_loss_dicts_order():
    # Keras 3.15 follows the loss dict ("priority" first), not the sorted output names.
    inputs = keras.Input((3,))
    heads = {name: layers.Dense(1, name=name)(inputs) for name in ("department", "priority")}
    model = keras.Model(inputs, heads)
    model.compile(loss={"priority": "mse", "department": "mae"})
    x = RNG.random((8, 3))
    targets = {"priority": RNG.random((8, 1)), "department": RNG.random((8, 1))}
    logs = model.evaluate(x, targets, verbose=0, return_dict=True)
    values = model.evaluate(x, targets, verbose=0)
    assert values == [logs["loss"], logs["priority_loss"], logs["department_loss"]]
    assert model.metrics_names == ["loss", "priority_loss", "department_loss"]


def test_repeated_metric_names_are_made_unique_as_keras_names_them():
    # Keras 3.15 logged these keys for the same compile arguments (two `accuracy` before
    # used to collapse into one log entry).
    x, y = RNG.random((16, 3)), RNG.random((16, 1))
    model = keras.Sequential([keras.Input((3,)), layers.Dense(1)])
    model.compile(
        loss="mse",
        metrics=["mae", "mae", keras.metrics.MeanAbsoluteError()],
        weighted_metrics=["mae", "mae", "mse"],
    )
    assert sorted(model.evaluate(x, y, verbose=0, return_dict=True)) == [
        "loss", "mae", "mae_1", "mean_absolute_error", "mse", "weighted_mae", "weighted_mae_1",
    ]  # fmt: skip
    inputs = keras.Input((3,))
    model = keras.Model(inputs, {"a": layers.Dense(1)(inputs), "b": layers.Dense(1)(inputs)})
    model.compile(
        loss="mse",
        metrics={"a": ["mae", "mae"], "b": ["mse"]},
        weighted_metrics={"a": ["mae"], "b": ["mse", "mae"]},
    )
    assert sorted(model.evaluate(x, {"a": y, "b": y}, verbose=0, return_dict=True)) == [
        "a_loss", "a_mae", "a_mae_1", "a_weighted_mae", "b_loss", "b_mae", "b_mse",
        "b_weighted_mse", "loss",
    ]  # fmt: skip


def test_metric_object_keeps_its_name_through_save_and_load(tmp_path):
    # The compiled metrics of a multi-output model are renamed after their output
    # ("department_..."): the saved compile config must hold the name given, else the
    # reloaded model logged "department_department_sparse_top_k_categorical_accuracy".
    model = ticket_model()
    logs = model.evaluate(TICKETS, TICKET_TARGETS, verbose=0, return_dict=True)
    metric_config = model.get_compile_config()["metrics"]["department"][1]["config"]
    assert metric_config["name"] == "sparse_top_k_categorical_accuracy"
    model.save(tmp_path / "tickets.keras")
    reloaded = keras.models.load_model(tmp_path / "tickets.keras")
    assert reloaded.evaluate(TICKETS, TICKET_TARGETS, verbose=0, return_dict=True) == logs


# ------------------------------- 4. "Customizing what happens in fit()" (torch backend)

FEATURES = RNG.random((256, 32)).astype("float32")
TARGETS = RNG.random((256, 1)).astype("float32")


class CustomTestModel(keras.Model):
    """The guide's test_step, verbatim."""

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


def _dense_model(cls):
    inputs = keras.Input(shape=(32,))
    return cls(inputs, layers.Dense(1)(inputs))


def test_guide_test_step_evaluates_mse_and_mae_of_the_predictions():
    model = _dense_model(CustomTestModel)
    model.compile(loss="mse", metrics=["mae"])
    loss, mae = model.evaluate(FEATURES, TARGETS, verbose=0)
    kernel, bias = (w.astype("float64") for w in model.get_weights())
    error = FEATURES.astype("float64") @ kernel + bias - TARGETS
    np.testing.assert_allclose([loss, mae], [np.mean(error**2), np.mean(np.abs(error))], rtol=1e-5)


def test_train_step_may_return_compute_metrics_as_in_keras():
    class ReturnsComputeMetrics(keras.Model):
        def train_step(self, data):
            x, y = data
            self.zero_grad()
            y_pred = self(x, training=True)
            loss = self.compute_loss(x, y, y_pred)
            loss.backward()
            with torch.no_grad():
                self.optimizer.apply(
                    [v.value.grad for v in self.trainable_weights], self.trainable_weights
                )
            return self.compute_metrics(x, y, y_pred)

    inputs = keras.Input((32,))
    model = ReturnsComputeMetrics(inputs, layers.Dense(1, kernel_initializer="ones")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    history = model.fit(FEATURES, TARGETS, epochs=1, batch_size=64, verbose=0)
    # As in Keras: the step never updated the loss tracker, so "loss" reads 0.
    mae = np.mean(np.abs(FEATURES.astype("float64").sum(-1, keepdims=True) - TARGETS))
    np.testing.assert_allclose(history.history["mae"], [mae], rtol=1e-5)
    assert history.history["loss"] == [0.0]
    assert sorted(model.get_metrics_result()) == ["loss", "mae"]


def test_overridden_compute_metrics_is_called_by_the_default_steps():
    class CountPositive(keras.metrics.Metric):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.count = self.add_variable(shape=(), initializer="zeros", name="count")

        def update_state(self, y_true, y_pred, sample_weight=None):
            self.count.assign_add(ops.sum(ops.cast(y_pred > 0, "float32")))

        def result(self):
            return self.count

    class WithCount(keras.Model):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            self.positive = CountPositive(name="positive")

        def compute_metrics(self, x, y, y_pred, sample_weight=None):
            results = super().compute_metrics(x, y, y_pred, sample_weight)
            self.positive.update_state(y, y_pred)
            results["positive"] = self.positive.result()
            return results

    inputs = keras.Input((32,))
    model = WithCount(inputs, layers.Dense(1, kernel_initializer="ones")(inputs))
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse", metrics=["mae"])
    history = model.fit(FEATURES, TARGETS, epochs=1, batch_size=64, verbose=0)
    assert history.history["positive"] == [256.0]  # every row sums to a positive number
    assert model.evaluate(FEATURES, TARGETS, verbose=0, return_dict=True)["positive"] == 256.0


# --------------------------------------------------------- 5. GAN with two optimizers


def _gan(latent_dim=16):
    discriminator = keras.Sequential(
        [
            keras.Input(shape=(28, 28, 1)),
            layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(8, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ],
        name="discriminator",
    )
    generator = keras.Sequential(
        [
            keras.Input(shape=(latent_dim,)),
            layers.Dense(7 * 7 * 8),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Reshape((7, 7, 8)),
            layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2DTranspose(8, (4, 4), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.Conv2D(1, (7, 7), padding="same", activation="sigmoid"),
        ],
        name="generator",
    )
    return GAN(discriminator=discriminator, generator=generator, latent_dim=latent_dim)


def test_gan_steps_each_optimizer_once_per_batch_on_its_own_network(tmp_path):
    gan = _gan()
    d_optimizer, g_optimizer = keras.optimizers.Adam(3e-4), keras.optimizers.Adam(3e-4)
    gan.compile(d_optimizer, g_optimizer, keras.losses.BinaryCrossentropy(from_logits=True))
    d_before = gan.discriminator.get_weights()
    g_before = gan.generator.get_weights()
    digits = RNG.random((64, 28, 28, 1)).astype("float32")
    history = gan.fit(digits, epochs=2, batch_size=16, verbose=0)
    # Keras 3.15 on the same program: these keys, 8 steps for each optimizer, and
    # 14 optimizer variables (iterations, learning rate, two moments per weight).
    assert list(history.history) == ["d_loss", "g_loss"] and len(history.epoch) == 2
    assert int(d_optimizer.iterations) == int(g_optimizer.iterations) == 8
    assert len(d_optimizer.variables) == 14
    assert all(not np.allclose(a, b) for a, b in zip(d_before, gan.discriminator.get_weights()))
    assert all(not np.allclose(a, b) for a, b in zip(g_before, gan.generator.get_weights()))
    gan.save_weights(tmp_path / "gan.weights.safetensors")
    copy = _gan()
    copy.load_weights(tmp_path / "gan.weights.safetensors")
    z = RNG.normal(size=(4, 16)).astype("float32")
    assert copy.generator.predict(z, verbose=0).shape == (4, 28, 28, 1)
    assert (
        _max_diff(copy.generator.predict(z, verbose=0), gan.generator.predict(z, verbose=0)) == 0.0
    )
