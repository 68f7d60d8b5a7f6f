"""Keras 3 programs ported by changing the import to `import tritonlayers as keras`.

Each test is a program as a Keras user writes it (keras.io guides and examples, the
subclassing guide), run on tiny synthetic data. Expected values come from plain torch
references with the same weights, from formulas worked out by hand, or, for printed text and
log names, from what Keras 3.15 (torch backend) printed for the same program.
"""

import re

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tritonlayers as keras
from tritonlayers import layers, ops
from tritonlayers.examples.vae import VariationalAutoEncoder

RNG = np.random.default_rng(0)
DIGITS = RNG.random((48, 28, 28)).astype("float32")
DIGIT_LABELS = RNG.integers(0, 10, size=48)


def _numpy(x) -> np.ndarray:
    return x.detach().cpu().numpy() if isinstance(x, torch.Tensor) else np.asarray(x)


def _tensors(weights) -> list[torch.Tensor]:
    return [torch.tensor(w, dtype=torch.float64) for w in weights]


# ----------------------------------------------------------------- Sequential MNIST MLP


def mnist_mlp():
    return keras.Sequential(
        [
            keras.Input(shape=(28, 28)),
            layers.Flatten(),
            layers.Dense(32, activation="relu"),
            layers.Dense(10, activation="softmax"),
        ]
    )


def _mlp_reference_epoch_losses(weights, epochs, batch_size, lr):
    """Plain torch SGD on the same weights: each epoch's mean batch loss, as fit logs it."""
    k1, b1, k2, b2 = (w.requires_grad_() for w in _tensors(weights))
    x = torch.tensor(DIGITS, dtype=torch.float64).reshape(len(DIGITS), -1)
    y = torch.tensor(DIGIT_LABELS)
    losses = []
    for _ in range(epochs):
        batch_losses = []
        for start in range(0, len(x), batch_size):
            xb, yb = x[start : start + batch_size], y[start : start + batch_size]
            probs = torch.softmax(torch.relu(xb @ k1 + b1) @ k2 + b2, dim=-1)
            loss = F.nll_loss(torch.log(probs.clamp(1e-7, 1 - 1e-7)), yb)
            grads = torch.autograd.grad(loss, [k1, b1, k2, b2])
            with torch.no_grad():
                for w, g in zip((k1, b1, k2, b2), grads):
                    w -= lr * g
            batch_losses.append(float(loss.detach()))
        losses.append(np.mean(batch_losses))
    return losses


def test_mnist_mlp_fit_losses_follow_a_plain_torch_sgd_loop():
    model = mnist_mlp()
    expected = _mlp_reference_epoch_losses(model.get_weights(), epochs=3, batch_size=16, lr=0.1)
    model.compile(
        optimizer=keras.optimizers.SGD(learning_rate=0.1),
        loss="sparse_categorical_crossentropy",
        metrics=["accuracy"],
    )
    history = model.fit(DIGITS, DIGIT_LABELS, batch_size=16, epochs=3, shuffle=False, verbose=0)
    np.testing.assert_allclose(history.history["loss"], expected, rtol=1e-5)


def test_mnist_mlp_logs_use_keras_names_in_keras_order():
    model = mnist_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(DIGITS, DIGIT_LABELS, epochs=1, validation_split=0.25, verbose=0)
    # Keras 3.15 (torch backend) gave exactly these keys, in this order.
    assert list(history.history) == ["accuracy", "loss", "val_accuracy", "val_loss"]
    assert history.params == {"verbose": 0, "epochs": 1, "steps": 2}
    logs = model.evaluate(DIGITS, DIGIT_LABELS, verbose=0, return_dict=True)
    assert list(logs) == ["accuracy", "loss"]


def test_mnist_mlp_evaluate_equals_the_loss_and_accuracy_of_its_predictions():
    model = mnist_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    loss, accuracy = model.evaluate(DIGITS, DIGIT_LABELS, batch_size=48, verbose=0)
    probs = model.predict(DIGITS, verbose=0)
    assert isinstance(probs, np.ndarray) and probs.shape == (48, 10)
    np.testing.assert_allclose(probs.sum(axis=1), 1.0, rtol=1e-6)
    picked = probs[np.arange(48), DIGIT_LABELS]
    assert loss == pytest.approx(float(-np.log(np.clip(picked, 1e-7, 1)).mean()), rel=1e-5)
    assert accuracy == pytest.approx(float((probs.argmax(1) == DIGIT_LABELS).mean()))


def test_fit_verbose_2_prints_keras_epoch_lines(capsys):
    model = mnist_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    model.fit(DIGITS, DIGIT_LABELS, batch_size=16, epochs=2, validation_split=0.25, verbose=2)
    lines = capsys.readouterr().out.splitlines()
    value = r"\d\.\d{4}(e[+-]\d\d)?"
    step_line = (
        rf"3/3 - \d+s - \d+(s|ms|us)/step - accuracy: {value} - loss: {value} - "
        rf"val_accuracy: {value} - val_loss: {value}"
    )
    assert lines[0] == "Epoch 1/2" and lines[2] == "Epoch 2/2"
    assert re.fullmatch(step_line, lines[1]) and re.fullmatch(step_line, lines[3])


# ----------------------------------------------------------------- keras.io MNIST convnet

CONVNET_SUMMARY = """\
Model: "sequential"
┏━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━━━━━━━━━━┳━━━━━━━━━━━━━━━┓
┃ Layer (type)                    ┃ Output Shape           ┃       Param # ┃
┡━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━━━━━━━━━━╇━━━━━━━━━━━━━━━┩
│ conv2d (Conv2D)                 │ (None, 10, 10, 4)      │            40 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d (MaxPooling2D)    │ (None, 5, 5, 4)        │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ conv2d_1 (Conv2D)               │ (None, 3, 3, 8)        │           296 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ max_pooling2d_1 (MaxPooling2D)  │ (None, 1, 1, 8)        │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ flatten (Flatten)               │ (None, 8)              │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dropout (Dropout)               │ (None, 8)              │             0 │
├─────────────────────────────────┼────────────────────────┼───────────────┤
│ dense (Dense)                   │ (None, 3)              │            27 │
└─────────────────────────────────┴────────────────────────┴───────────────┘
 Total params: 363 (1.42 KB)
 Trainable params: 363 (1.42 KB)
 Non-trainable params: 0 (0.00 B)
"""


def convnet(num_classes=3, input_shape=(12, 12, 1)):
    return keras.Sequential(
        [
            keras.Input(shape=input_shape),
            layers.Conv2D(4, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Conv2D(8, kernel_size=(3, 3), activation="relu"),
            layers.MaxPooling2D(pool_size=(2, 2)),
            layers.Flatten(),
            layers.Dropout(0.5),
            layers.Dense(num_classes, activation="softmax"),
        ]
    )


def _images(n=40):
    """Noise images whose class is the band of four rows that is brighter: learnable."""
    labels = RNG.integers(0, 3, n)
    x = RNG.random((n, 12, 12)).astype("float32")
    for image, label in zip(x, labels):
        image[4 * label : 4 * label + 4] += 1.0
    return np.expand_dims(x, -1), keras.utils.to_categorical(labels, 3)


def test_convnet_summary_prints_the_table_keras_prints(capsys):
    keras.utils.clear_session(free_memory=False)
    convnet().summary()
    assert capsys.readouterr().out == CONVNET_SUMMARY


def test_convnet_predictions_match_torch_conv_and_pool():
    model = convnet()
    x, _ = _images(6)
    k1, b1, k2, b2, k3, b3 = _tensors(model.get_weights())
    h = torch.tensor(x, dtype=torch.float64).permute(0, 3, 1, 2)
    h = F.max_pool2d(torch.relu(F.conv2d(h, k1.permute(3, 2, 0, 1), b1)), 2)
    h = F.max_pool2d(torch.relu(F.conv2d(h, k2.permute(3, 2, 0, 1), b2)), 2)
    expected = torch.softmax(h.permute(0, 2, 3, 1).flatten(1) @ k3 + b3, dim=-1)
    np.testing.assert_allclose(model.predict(x, verbose=0), expected.numpy(), atol=1e-6)


def test_convnet_trains_with_categorical_labels_and_a_validation_split():
    model = convnet()
    x, y = _images()
    model.compile(loss="categorical_crossentropy", optimizer="adam", metrics=["accuracy"])
    history = model.fit(x, y, batch_size=8, epochs=8, validation_split=0.1, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    score = model.evaluate(x, y, verbose=0)
    assert isinstance(score, list) and len(score) == 2


def test_convnet_dropout_is_active_in_fit_only():
    model = convnet()
    x, _ = _images(8)
    np.testing.assert_array_equal(model.predict(x, verbose=0), model.predict(x, verbose=0))
    assert not torch.equal(model(x, training=True), model(x, training=True))


# ----------------------------------------------------------------- functional, 2 in / 2 out


def ticket_model():
    title = keras.Input(shape=(10,), name="title")
    body = keras.Input(shape=(6,), name="body")
    t = layers.Dense(8, activation="relu")(title)
    b = layers.Dense(8, activation="relu")(body)
    x = layers.concatenate([layers.Concatenate()([t, b]), t])
    priority = layers.Dense(1, name="priority")(x)
    department = layers.Dense(4, activation="softmax", name="department")(x)
    return keras.Model(
        inputs=[title, body], outputs={"priority": priority, "department": department}
    )


def _tickets(n=24):
    inputs = {
        "title": RNG.random((n, 10)).astype("float32"),
        "body": RNG.random((n, 6)).astype("float32"),
    }
    targets = {
        "priority": RNG.random((n, 1)).astype("float32"),
        "department": RNG.integers(0, 4, size=n),
    }
    return inputs, targets


def _compile_tickets(model):
    model.compile(
        optimizer=keras.optimizers.RMSprop(1e-2),
        loss={
            "priority": keras.losses.MeanSquaredError(),
            "department": keras.losses.SparseCategoricalCrossentropy(),
        },
        loss_weights={"priority": 1.0, "department": 0.2},
        metrics={"department": ["accuracy"]},
    )


def test_two_output_loss_is_the_loss_weighted_sum_of_each_outputs_loss():
    model = ticket_model()
    _compile_tickets(model)
    inputs, targets = _tickets()
    logs = model.evaluate(inputs, targets, verbose=0, return_dict=True)
    pred = model.predict(inputs, verbose=0)
    assert sorted(pred) == ["department", "priority"]
    mse = float(((pred["priority"] - targets["priority"]) ** 2).mean())
    picked = pred["department"][np.arange(24), targets["department"]]
    scce = float(-np.log(picked).mean())
    assert logs["priority_loss"] == pytest.approx(mse, rel=1e-5)
    assert logs["department_loss"] == pytest.approx(scce, rel=1e-5)
    assert logs["loss"] == pytest.approx(mse + 0.2 * scce, rel=1e-5)


def test_two_output_fit_logs_each_output_as_keras_names_it():
    model = ticket_model()
    _compile_tickets(model)
    inputs, targets = _tickets()
    history = model.fit(inputs, targets, epochs=3, batch_size=8, shuffle=False, verbose=0)
    assert list(history.history) == [
        "department_accuracy",
        "department_loss",
        "loss",
        "priority_loss",
    ]
    assert history.history["loss"][-1] < history.history["loss"][0]


def test_two_input_model_accepts_a_list_in_input_order():
    model = ticket_model()
    inputs, _ = _tickets(5)
    by_name = model.predict(inputs, verbose=0)
    by_order = model.predict([inputs["title"], inputs["body"]], verbose=0)
    np.testing.assert_array_equal(by_name["priority"], by_order["priority"])


# ----------------------------------------------------------------- Embedding + LSTM text


def text_classifier(vocab=20):
    inputs = keras.Input(shape=(None,), dtype="int64")
    x = layers.Embedding(vocab, 8, mask_zero=True)(inputs)
    x = layers.LSTM(5)(x)
    return keras.Model(inputs, layers.Dense(1, activation="sigmoid")(x))


def test_masked_lstm_gives_padded_and_unpadded_sequences_the_same_output():
    model = text_classifier()
    padded = keras.utils.pad_sequences([[3, 4, 5], [7, 1, 2, 9, 6]], padding="post")
    np.testing.assert_allclose(
        model.predict(padded, verbose=0)[0], model.predict(padded[:1, :3], verbose=0)[0], atol=1e-6
    )


def test_lstm_classifier_matches_torch_lstm_with_the_same_weights():
    model = text_classifier()
    ids = RNG.integers(1, 20, size=(4, 6))
    table, kernel, recurrent, bias, dense_k, dense_b = _tensors(model.get_weights())
    lstm = torch.nn.LSTM(8, 5, batch_first=True, dtype=torch.float64)
    with torch.no_grad():  # Keras gates are (i, f, c, o), torch's (i, f, g, o): same order.
        lstm.weight_ih_l0.copy_(kernel.T)
        lstm.weight_hh_l0.copy_(recurrent.T)
        lstm.bias_ih_l0.copy_(bias)
        lstm.bias_hh_l0.zero_()
        _, (h, _) = lstm(table[torch.tensor(ids)])
    expected = torch.sigmoid(h[0] @ dense_k + dense_b)
    np.testing.assert_allclose(model.predict(ids, verbose=0), expected.numpy(), atol=1e-6)


def test_text_classifier_training_lowers_binary_crossentropy():
    model = text_classifier()
    ids = keras.utils.pad_sequences(
        [RNG.integers(1, 20, size=RNG.integers(2, 8)) for _ in range(32)], maxlen=7
    )
    labels = (ids.sum(1) % 2).astype("float32")
    model.compile(optimizer=keras.optimizers.Adam(1e-2), loss="binary_crossentropy")
    history = model.fit(ids, labels, batch_size=8, epochs=6, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# ----------------------------------------------------------------- keras.io text transformer


class TransformerBlock(layers.Layer):
    def __init__(self, embed_dim, num_heads, ff_dim, rate=0.1):
        super().__init__()
        self.att = layers.MultiHeadAttention(num_heads=num_heads, key_dim=embed_dim)
        self.ffn = keras.Sequential(
            [layers.Dense(ff_dim, activation="relu"), layers.Dense(embed_dim)]
        )
        self.layernorm1 = layers.LayerNormalization(epsilon=1e-6)
        self.layernorm2 = layers.LayerNormalization(epsilon=1e-6)
        self.dropout1 = layers.Dropout(rate)
        self.dropout2 = layers.Dropout(rate)

    def call(self, inputs):
        attn_output = self.dropout1(self.att(inputs, inputs))
        out1 = self.layernorm1(inputs + attn_output)
        ffn_output = self.dropout2(self.ffn(out1))
        return self.layernorm2(out1 + ffn_output)


class TokenAndPositionEmbedding(layers.Layer):
    def __init__(self, maxlen, vocab_size, embed_dim):
        super().__init__()
        self.token_emb = layers.Embedding(input_dim=vocab_size, output_dim=embed_dim)
        self.pos_emb = layers.Embedding(input_dim=maxlen, output_dim=embed_dim)

    def call(self, x):
        positions = self.pos_emb(ops.arange(start=0, stop=ops.shape(x)[-1], step=1))
        return self.token_emb(x) + positions


def test_transformer_text_classifier_trains_and_positions_are_added_per_step():
    maxlen, vocab_size, embed_dim = 10, 30, 8
    inputs = layers.Input(shape=(maxlen,))
    embedding = TokenAndPositionEmbedding(maxlen, vocab_size, embed_dim)
    x = TransformerBlock(embed_dim, 2, 16)(embedding(inputs))
    x = layers.Dropout(0.1)(layers.GlobalAveragePooling1D()(x))
    x = layers.Dropout(0.1)(layers.Dense(8, activation="relu")(x))
    model = keras.Model(inputs=inputs, outputs=layers.Dense(2, activation="softmax")(x))
    ids = RNG.integers(1, vocab_size, (32, maxlen))
    labels = (ids[:, 0] > vocab_size // 2).astype("int64")
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy", metrics=["accuracy"])
    history = model.fit(ids, labels, batch_size=8, epochs=6, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]
    np.testing.assert_allclose(model.predict(ids, verbose=0).sum(1), 1.0, rtol=1e-6)
    table = embedding.token_emb.embeddings.detach()[torch.tensor(ids[:1])]
    positions = embedding.pos_emb.embeddings.detach()
    torch.testing.assert_close(embedding(ids[:1]), table + positions)


# ----------------------------------------------------------------- structured data


def test_adapted_normalization_feeds_a_regressor_standardized_features():
    features = RNG.normal([10.0, -3.0, 0.5], [5.0, 0.1, 2.0], size=(64, 3)).astype("float32")
    target = features @ np.array([[0.2], [3.0], [-1.0]], "float32")
    normalizer = layers.Normalization()
    normalizer.adapt(features)
    model = keras.Sequential([keras.Input((3,)), normalizer, layers.Dense(1)])
    standardized = (features - features.mean(0)) / features.std(0)
    np.testing.assert_allclose(_numpy(normalizer(features)), standardized, atol=1e-4)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    history = model.fit(features, target, batch_size=16, epochs=10, verbose=0)
    assert history.history["loss"][-1] < 0.1 * history.history["loss"][0]
    assert len(model.non_trainable_weights) == 3  # mean, variance, count


# ----------------------------------------------------------------- custom training loop


def digits_classifier():
    inputs = keras.Input(shape=(8,), name="digits")
    x = layers.Dense(16, activation="relu")(inputs)
    x = layers.Dense(16, activation="relu")(x)
    return keras.Model(inputs, layers.Dense(3, name="predictions")(x))


def test_torch_custom_training_loop_matches_torch_sgd_with_momentum():
    """keras.io's "custom training loop in PyTorch" loop, against torch.optim.SGD (on CPU)."""
    device = keras.config.device()
    x = torch.tensor(RNG.random((48, 8)), dtype=torch.float32, device=device)
    y = torch.tensor(RNG.integers(0, 3, size=48), device=device)
    model = digits_classifier()
    reference = [w.float().requires_grad_() for w in _tensors(model.get_weights())]
    torch_optimizer = torch.optim.SGD(reference, lr=0.05, momentum=0.9)
    optimizer = keras.optimizers.SGD(learning_rate=0.05, momentum=0.9)
    loss_fn = keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    accuracy = keras.metrics.SparseCategoricalAccuracy()
    losses, expected = [], []
    for start in range(0, 48, 16):
        xb, yb = x[start : start + 16], y[start : start + 16]
        logits = model(xb, training=True)
        loss = loss_fn(yb, logits)
        model.zero_grad()
        loss.backward()
        trainable_weights = [v for v in model.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            optimizer.apply(gradients, trainable_weights)
        accuracy.update_state(yb, logits)
        losses.append(float(loss.detach()))

        k1, b1, k2, b2, k3, b3 = reference
        ref_logits = torch.relu(torch.relu(xb.cpu() @ k1 + b1) @ k2 + b2) @ k3 + b3
        ref_loss = F.cross_entropy(ref_logits, yb.cpu())
        torch_optimizer.zero_grad()
        ref_loss.backward()
        torch_optimizer.step()
        expected.append(float(ref_loss.detach()))
    np.testing.assert_allclose(losses, expected, rtol=1e-5)
    assert int(optimizer.iterations) == 3
    predicted = model(x).argmax(-1)
    assert float(accuracy.result()) <= 1.0
    accuracy.reset_state()
    accuracy.update_state(y, model(x))
    assert float(accuracy.result()) == pytest.approx(float((predicted == y).float().mean()))


def test_ops_training_step_with_apply_gradients_matches_plain_gradient_descent():
    device = keras.config.device()
    x = torch.tensor(RNG.random((12, 8)), dtype=torch.float32, device=device)
    y = torch.tensor(RNG.integers(0, 3, size=12), device=device)
    model = digits_classifier()
    before = [torch.tensor(w) for w in model.get_weights()]
    logits = model(x)
    loss = ops.mean(keras.losses.sparse_categorical_crossentropy(y, logits, from_logits=True))
    grads = torch.autograd.grad(loss, model.trainable_weights)
    keras.optimizers.SGD(learning_rate=0.5).apply_gradients(zip(grads, model.trainable_weights))
    for old, grad, new in zip(before, grads, model.get_weights()):
        np.testing.assert_allclose(new, (old - 0.5 * grad.cpu()).numpy(), atol=1e-7)


# ----------------------------------------------------------------- callbacks, saving


def regressor():
    return keras.Sequential(
        [
            keras.Input((5,)),
            layers.Dense(8, activation="tanh"),
            layers.BatchNormalization(),
            layers.Dense(1),
        ]
    )


def _regression_data():
    x = RNG.random((40, 5)).astype("float32")
    y = x @ RNG.random((5, 1)).astype("float32")
    return x, y, RNG.random((16, 5)).astype("float32"), RNG.random((16, 1)).astype("float32")


def test_early_stopping_restores_the_best_epochs_weights():
    x, y, x_val, y_val = _regression_data()
    model = regressor()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    stop = keras.callbacks.EarlyStopping(monitor="val_loss", patience=2, restore_best_weights=True)
    history = model.fit(
        x, y, validation_data=(x_val, y_val), epochs=30, batch_size=8, callbacks=[stop], verbose=0
    )
    best = min(history.history["val_loss"])
    assert stop.stopped_epoch == len(history.epoch) - 1 < 29
    assert model.evaluate(x_val, y_val, verbose=0) == pytest.approx(best, rel=1e-5)


def test_model_checkpoint_keeps_the_best_model_loadable(tmp_path):
    x, y, x_val, y_val = _regression_data()
    model = regressor()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse")
    checkpoint = keras.callbacks.ModelCheckpoint(
        str(tmp_path / "best.keras"), monitor="val_loss", save_best_only=True
    )
    history = model.fit(
        x, y, validation_data=(x_val, y_val), epochs=5, callbacks=[checkpoint], verbose=0
    )
    best = keras.saving.load_model(tmp_path / "best.keras")
    loss = best.evaluate(x_val, y_val, verbose=0)
    assert loss == pytest.approx(min(history.history["val_loss"]), rel=1e-5)


def test_saved_model_reloads_predictions_optimizer_state_and_training(tmp_path):
    x, y, x_val, _ = _regression_data()
    model = regressor()
    model.compile(optimizer=keras.optimizers.Adam(0.05), loss="mse", metrics=["mae"])
    model.fit(x, y, epochs=2, batch_size=8, verbose=0)
    model.save(tmp_path / "final.keras")
    restored = keras.saving.load_model(tmp_path / "final.keras")
    np.testing.assert_array_equal(
        restored.predict(x_val, verbose=0), model.predict(x_val, verbose=0)
    )
    assert int(restored.optimizer.iterations) == int(model.optimizer.iterations) == 10
    model.fit(x, y, epochs=1, shuffle=False, verbose=0)
    restored.fit(x, y, epochs=1, shuffle=False, verbose=0)
    np.testing.assert_array_equal(
        restored.predict(x_val, verbose=0), model.predict(x_val, verbose=0)
    )


def test_get_weights_set_weights_copies_a_model_exactly():
    source, target = regressor(), regressor()
    x = RNG.random((4, 5)).astype("float32")
    target.set_weights(source.get_weights())
    np.testing.assert_array_equal(target.predict(x, verbose=0), source.predict(x, verbose=0))


# ----------------------------------------------------------------- the subclassing guide
# Its small layers are ported in test_guide_layers.py and test_layers_guide.py, its VAE in
# tritonlayers/examples/vae.py; here: the ResNet `Model` and the VAE's loss bookkeeping.


class ResNetBlock(keras.layers.Layer):
    def __init__(self, filters=4, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = layers.Conv2D(filters, 3, padding="same", activation="relu")
        self.conv2 = layers.Conv2D(filters, 3, padding="same")
        self.bn = layers.BatchNormalization()

    def call(self, inputs, training=None):
        x = self.bn(self.conv2(self.conv1(inputs)), training=training)
        return keras.activations.relu(x + inputs)


class ResNet(keras.Model):
    def __init__(self, num_classes=1000, **kwargs):
        super().__init__(**kwargs)
        self.block_1 = ResNetBlock()
        self.block_2 = ResNetBlock()
        self.global_pool = layers.GlobalAveragePooling2D()
        self.classifier = layers.Dense(num_classes)

    def call(self, inputs):
        x = self.block_2(self.block_1(inputs))
        return self.classifier(self.global_pool(x))


def test_guide_resnet_model_fits_and_round_trips_its_weights(tmp_path):
    x = RNG.random((8, 6, 6, 4)).astype("float32")
    y = np.arange(8) % 3
    keras.utils.clear_session(free_memory=False)
    resnet = ResNet(num_classes=3)
    resnet.compile(
        optimizer="adam", loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True)
    )
    resnet.fit(x, y, epochs=1, batch_size=4, verbose=0)
    assert [layer.name for layer in resnet.layers] == [
        "res_net_block",
        "res_net_block_1",
        "global_average_pooling2d",
        "dense",
    ]
    assert (len(resnet.weights), len(resnet.non_trainable_weights)) == (18, 4)
    resnet.save_weights(tmp_path / "resnet.weights.safetensors")
    restored = ResNet(num_classes=3)
    restored(x[:1])
    restored.load_weights(tmp_path / "resnet.weights.safetensors")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), resnet.predict(x, verbose=0))


def test_guide_unregistered_model_class_fails_to_load_with_a_clear_error(tmp_path):
    model = ResNet(num_classes=2)
    model(np.zeros((1, 4, 4, 4), "float32"))
    model.save(tmp_path / "resnet.keras")
    with pytest.raises(ValueError, match="Could not locate class 'ResNet'"):
        keras.saving.load_model(tmp_path / "resnet.keras")


def test_guide_vae_loss_is_reconstruction_plus_kl_and_goes_down():
    x = RNG.random((128, 20)).astype("float32")
    vae = VariationalAutoEncoder(20, 16, 4)
    vae.compile(keras.optimizers.Adam(learning_rate=1e-2), loss=keras.losses.MeanSquaredError())
    first = vae.evaluate(x, x, batch_size=128, verbose=0)
    reconstruction = _numpy(vae(x))
    kl = float(vae.losses[0].detach())
    # A new call draws new noise: the logged loss agrees with this one to a sampling error.
    assert first == pytest.approx(float(((reconstruction - x) ** 2).mean()) + kl, abs=0.02)
    history = vae.fit(x, x, epochs=4, batch_size=32, verbose=0)
    assert history.history["loss"][-1] < history.history["loss"][0]


# ----------------------------------------------------------------- common mistakes


def test_fit_before_compile_says_to_call_compile():
    with pytest.raises(ValueError, match=r"You must call `compile\(\)` before using the model"):
        mnist_mlp().fit(DIGITS, DIGIT_LABELS, verbose=0)


def test_wrong_input_width_names_the_layer_and_both_shapes():
    with pytest.raises(ValueError, match=r"expected axis -1 of input shape to have value 784"):
        mnist_mlp().layers[1](np.ones((2, 5), "float32"))


def test_misspelled_layer_argument_is_rejected_by_name():
    with pytest.raises(ValueError, match=r"Unrecognized keyword arguments passed to Dense"):
        layers.Dense(3, activaton="relu")


def test_unknown_loss_name_is_rejected_at_compile_or_fit():
    model = mnist_mlp()
    with pytest.raises(ValueError, match=r"Could not interpret loss identifier"):
        model.compile(optimizer="adam", loss="msee")
        model.fit(DIGITS, DIGIT_LABELS, verbose=0)


def test_x_and_y_of_different_lengths_is_ambiguous_cardinality():
    model = mnist_mlp()
    model.compile(optimizer="adam", loss="sparse_categorical_crossentropy")
    with pytest.raises(ValueError, match=r"Data cardinality is ambiguous"):
        model.fit(DIGITS, DIGIT_LABELS[:40], verbose=0)


def test_set_weights_with_a_wrong_count_names_both_counts():
    model = mnist_mlp()
    # Keras 3.15's wording: "... with a weight list of length 2, but the layer was expecting
    # 4 weights."
    with pytest.raises(ValueError, match=r"weight list of length 2, but .* expecting 4 weights"):
        model.set_weights(model.get_weights()[:2])


# ----------------------------------------------------------------- customizing fit()


class GuideCustomModel(keras.Model):
    """keras.io "Customizing what happens in fit() with PyTorch", first example."""

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.compute_loss(y=y, y_pred=y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        for metric in self.metrics:
            if metric.name == "loss":
                metric.update_state(loss)
            else:
                metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


class TrackedCustomModel(keras.Model):
    """The same guide's second example: own loss tracker and metric, own test_step."""

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        self.loss_tracker = keras.metrics.Mean(name="loss")
        self.mae_metric = keras.metrics.MeanAbsoluteError(name="mae")
        self.loss_fn = keras.losses.MeanSquaredError()

    def train_step(self, data):
        x, y = data
        self.zero_grad()
        y_pred = self(x, training=True)
        loss = self.loss_fn(y, y_pred)
        loss.backward()
        trainable_weights = [v for v in self.trainable_weights]
        gradients = [v.value.grad for v in trainable_weights]
        with torch.no_grad():
            self.optimizer.apply(gradients, trainable_weights)
        self.loss_tracker.update_state(loss)
        self.mae_metric.update_state(y, y_pred)
        return {"loss": self.loss_tracker.result(), "mae": self.mae_metric.result()}

    @property
    def metrics(self):
        return [self.loss_tracker, self.mae_metric]

    def test_step(self, data):
        x, y = data
        y_pred = self(x, training=False)
        self.loss_tracker.update_state(self.loss_fn(y, y_pred))
        self.mae_metric.update_state(y, y_pred)
        return {m.name: m.result() for m in self.metrics}


def _custom_fit_data():
    return RNG.random((100, 32)).astype("float32"), RNG.random((100, 1)).astype("float32")


def _sgd_epoch_means(model_weights, x, y, batch_size, lr):
    """Plain torch SGD on a Dense(1): each epoch's mean of batch MSE and MAE."""
    kernel, bias = (w.float().requires_grad_() for w in _tensors(model_weights))
    xs, ys = torch.tensor(x), torch.tensor(y)
    losses, maes = [], []
    for start in range(0, len(xs), batch_size):
        pred = xs[start : start + batch_size] @ kernel + bias
        loss = ((pred - ys[start : start + batch_size]) ** 2).mean()
        maes.append(float((pred - ys[start : start + batch_size]).abs().mean().detach()))
        grads = torch.autograd.grad(loss, [kernel, bias])
        with torch.no_grad():
            kernel -= lr * grads[0]
            bias -= lr * grads[1]
        losses.append(float(loss.detach()))
    return np.mean(losses), np.mean(maes)


def test_functional_subclass_with_a_custom_train_step_trains_as_written():
    x, y = _custom_fit_data()
    inputs = keras.Input(shape=(32,))
    model = GuideCustomModel(inputs, keras.layers.Dense(1)(inputs))
    expected = _sgd_epoch_means(model.get_weights(), x, y, batch_size=25, lr=0.1)
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse", metrics=["mae"])
    history = model.fit(x, y, batch_size=25, epochs=1, shuffle=False, verbose=0)
    assert isinstance(model, keras.models.Functional) and len(model.layers) == 2
    # Keras's loss tracker in a custom step is a plain mean over batches.
    np.testing.assert_allclose(
        [history.history["loss"][0], history.history["mae"][0]], expected, rtol=1e-5
    )


def test_custom_train_step_needs_no_compiled_loss_and_custom_test_step_evaluates():
    x, y = _custom_fit_data()
    inputs = keras.Input(shape=(32,))
    model = TrackedCustomModel(inputs, keras.layers.Dense(1)(inputs))
    model.compile(optimizer="adam")
    history = model.fit(x, y, epochs=3, verbose=0)
    assert sorted(history.history) == ["loss", "mae"]
    assert history.history["loss"][-1] < history.history["loss"][0]
    loss, mae = model.evaluate(x, y, batch_size=100, verbose=0)
    pred = model.predict(x, verbose=0)
    assert loss == pytest.approx(float(((pred - y) ** 2).mean()), rel=1e-4)
    assert mae == pytest.approx(float(np.abs(pred - y).mean()), rel=1e-4)


def test_custom_predict_step_shapes_predict_output():
    class Probabilities(keras.Model):
        def __init__(self):
            super().__init__()
            self.logits = layers.Dense(3)

        def call(self, x):
            return self.logits(x)

        def predict_step(self, data):
            return ops.softmax(self(data, training=False))

    x = RNG.random((5, 4)).astype("float32")
    model = Probabilities()
    np.testing.assert_allclose(model.predict(x, verbose=0).sum(axis=1), 1.0, rtol=1e-6)


def test_adam_with_ema_ends_fit_on_the_moving_average_weights():
    x, y, _, _ = _regression_data()
    model = keras.Sequential([keras.Input((5,)), layers.Dense(1)])
    model.compile(keras.optimizers.Adam(0.05, use_ema=True, ema_momentum=0.5), "mse")
    trajectory = []
    recorder = keras.callbacks.LambdaCallback(
        on_train_batch_end=lambda batch, logs: trajectory.append(model.get_weights()[0].copy())
    )
    model.fit(x, y, batch_size=40, epochs=3, shuffle=False, verbose=0, callbacks=[recorder])
    # EMA with momentum 0.5 over the three post-step kernels (Keras seeds it with the first).
    ema = trajectory[0]
    for kernel in trajectory[1:]:
        ema = 0.5 * ema + 0.5 * kernel
    np.testing.assert_allclose(model.get_weights()[0], ema, rtol=1e-5)


def test_subclass_taking_two_models_is_not_mistaken_for_a_functional_call():
    """keras.io's VAE: `VAE(encoder, decoder)` passes only keyword arguments up."""

    class VAE(keras.Model):
        def __init__(self, encoder, decoder, **kwargs):
            super().__init__(**kwargs)
            self.encoder = encoder
            self.decoder = decoder

        def call(self, x):
            return self.decoder(self.encoder(x))

    encoder = keras.Sequential([keras.Input((4,)), layers.Dense(2)])
    decoder = keras.Sequential([keras.Input((2,)), layers.Dense(4)])
    vae = VAE(encoder, decoder)
    assert not isinstance(vae, keras.models.Functional)
    assert tuple(vae(np.ones((3, 4), "float32")).shape) == (3, 4)


class GAN(keras.Model):
    """keras.io's GAN with an overridden `compile` and `train_step` (PyTorch version)."""

    def __init__(self, discriminator, generator, latent_dim):
        super().__init__()
        self.discriminator = discriminator
        self.generator = generator
        self.latent_dim = latent_dim
        self.d_loss_tracker = keras.metrics.Mean(name="d_loss")
        self.g_loss_tracker = keras.metrics.Mean(name="g_loss")
        self.seed_generator = keras.random.SeedGenerator(1337)
        self.built = True

    @property
    def metrics(self):
        return [self.d_loss_tracker, self.g_loss_tracker]

    def compile(self, d_optimizer, g_optimizer, loss_fn):
        super().compile()
        self.d_optimizer = d_optimizer
        self.g_optimizer = g_optimizer
        self.loss_fn = loss_fn

    def _step(self, model, optimizer, labels, images):
        self.zero_grad()
        loss = self.loss_fn(labels, self.discriminator(images))
        loss.backward()
        grads = [v.value.grad for v in model.trainable_weights]
        with torch.no_grad():
            optimizer.apply(grads, model.trainable_weights)
        return loss

    def train_step(self, real_images):
        if isinstance(real_images, (tuple, list)):
            real_images = real_images[0]
        batch_size = real_images.shape[0]
        noise = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        combined = torch.concat([self.generator(noise).detach(), real_images], axis=0)
        labels = torch.concat([torch.ones((batch_size, 1)), torch.zeros((batch_size, 1))])
        labels = labels.to(combined.device)
        d_loss = self._step(self.discriminator, self.d_optimizer, labels, combined)
        noise = keras.random.normal(shape=(batch_size, self.latent_dim), seed=self.seed_generator)
        misleading = torch.zeros((batch_size, 1), device=combined.device)
        g_loss = self._step(self.generator, self.g_optimizer, misleading, self.generator(noise))
        self.d_loss_tracker.update_state(d_loss)
        self.g_loss_tracker.update_state(g_loss)
        return {"d_loss": self.d_loss_tracker.result(), "g_loss": self.g_loss_tracker.result()}


def test_gan_with_custom_compile_and_train_step_updates_both_networks():
    discriminator = keras.Sequential(
        [
            keras.Input((6, 6, 1)),
            layers.Conv2D(4, 3, strides=2, padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.GlobalMaxPooling2D(),
            layers.Dense(1),
        ]
    )
    generator = keras.Sequential(
        [
            keras.Input((4,)),
            layers.Dense(36),
            layers.Reshape((6, 6, 1)),
            layers.Conv2D(1, 3, padding="same", activation="sigmoid"),
        ]
    )
    before = [w.copy() for w in discriminator.get_weights() + generator.get_weights()]
    gan = GAN(discriminator=discriminator, generator=generator, latent_dim=4)
    gan.compile(
        d_optimizer=keras.optimizers.Adam(learning_rate=3e-3),
        g_optimizer=keras.optimizers.Adam(learning_rate=3e-3),
        loss_fn=keras.losses.BinaryCrossentropy(from_logits=True),
    )
    history = gan.fit(
        RNG.random((16, 6, 6, 1)).astype("float32"), epochs=2, batch_size=8, verbose=0
    )
    assert sorted(history.history) == ["d_loss", "g_loss"] and len(history.epoch) == 2
    after = discriminator.get_weights() + generator.get_weights()
    assert all(not np.array_equal(a, b) for a, b in zip(before, after))
    assert int(gan.d_optimizer.iterations) == int(gan.g_optimizer.iterations) == 4
