"""keras.io examples ported by changing only the import: "Image classification with Vision
Transformer", "Knowledge Distillation" and "Image similarity estimation using a Siamese
Network with a contrastive loss".

Each test pins one behaviour that differed from Keras 3.15 (torch backend) when the example
ran here, or one the example relies on; the expected values were checked against Keras.
"""

import os

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers, ops


class Patches(layers.Layer):
    """The ViT example's layer: non-overlapping patches, flattened per patch."""

    def __init__(self, patch_size, **kwargs):
        super().__init__(**kwargs)
        self.patch_size = patch_size

    def call(self, images):
        shape = ops.shape(images)
        patches = keras.ops.image.extract_patches(images, size=self.patch_size)
        count = (shape[1] // self.patch_size) * (shape[2] // self.patch_size)
        return ops.reshape(patches, (shape[0], count, self.patch_size**2 * shape[3]))

    def get_config(self):
        config = super().get_config()
        config.update({"patch_size": self.patch_size})
        return config


class PatchEncoder(layers.Layer):
    """The ViT example's layer: a projection plus a learned position embedding."""

    def __init__(self, num_patches, projection_dim, **kwargs):
        super().__init__(**kwargs)
        self.num_patches = num_patches
        self.projection = layers.Dense(units=projection_dim)
        self.position_embedding = layers.Embedding(input_dim=num_patches, output_dim=projection_dim)

    def call(self, patch):
        positions = ops.expand_dims(ops.arange(start=0, stop=self.num_patches, step=1), axis=0)
        return self.projection(patch) + self.position_embedding(positions)


def _vit(image_size=8, patch_size=4, projection_dim=4):
    inputs = keras.Input(shape=(6, 6, 3))
    augmentation = keras.Sequential(
        [
            layers.Normalization(),
            layers.Resizing(image_size, image_size),
            layers.RandomFlip("horizontal"),
            layers.RandomRotation(factor=0.02),
            layers.RandomZoom(height_factor=0.2, width_factor=0.2),
        ],
        name="data_augmentation",
    )
    x = augmentation(inputs)
    num_patches = (image_size // patch_size) ** 2
    encoded = PatchEncoder(num_patches, projection_dim)(Patches(patch_size)(x))
    x1 = layers.LayerNormalization(epsilon=1e-6)(encoded)
    attention = layers.MultiHeadAttention(num_heads=2, key_dim=projection_dim, dropout=0.1)(x1, x1)
    x2 = layers.Add()([attention, encoded])
    x3 = layers.Dense(projection_dim, activation=keras.activations.gelu)(x2)
    x3 = layers.Dropout(0.1)(x3)
    x = layers.Flatten()(layers.Add()([x3, x2]))
    return keras.Model(inputs, layers.Dense(10)(x)), augmentation


def test_vit_converts_a_list_of_uint8_images_as_uint8_for_resize_and_patches():
    # The ViT example shows patches of `ops.image.resize(ops.convert_to_tensor([image]))` for
    # a uint8 CIFAR image; Keras 3.15 promotes the list's items (uint8 stays uint8), where a
    # list was read as Python ints (int32).
    image = np.arange(4 * 4 * 3, dtype="uint8").reshape(4, 4, 3)
    batch = ops.convert_to_tensor([image])
    assert batch.dtype == torch.uint8
    resized = ops.image.resize(batch, size=(8, 8))
    assert resized.dtype == torch.uint8
    patches = Patches(4)(resized)
    assert patches.dtype == torch.uint8 and tuple(patches.shape) == (1, 4, 48)


@pytest.mark.parametrize(
    "items, expected",
    [
        ([np.zeros(2, "uint8"), np.zeros(2, "int8")], torch.int16),
        ([np.float16(1.0), 2.5], torch.float16),
        ([np.uint8(1), 3], torch.uint8),
        ((np.zeros(2, "uint8"),), torch.uint8),
        ([np.zeros(2, "int64")], torch.int32),
        ([np.zeros(2, "float64")], torch.float32),
        ([[1, 2], [3, 4]], torch.int32),
        ([True, 1], torch.int32),
    ],
)
def test_convert_to_tensor_promotes_list_items_as_keras(items, expected):
    # Each pair was checked against Keras 3.15 (torch backend).
    assert ops.convert_to_tensor(items).dtype == expected


def test_vit_summary_fit_checkpoint_and_evaluate_follow_keras(tmp_path, capsys):
    # Param counts, the history keys and the verbose=2 log line were checked against Keras
    # 3.15 on the same model. The checkpoint is a ".weights.safetensors" file here (the
    # example's ".weights.h5" works too: tests/test_weights_h5.py). The weight paths use
    # fresh automatic layer names, as in a new Keras session.
    keras.utils.clear_session(free_memory=False)
    keras.utils.set_random_seed(1)
    model, augmentation = _vit()
    rng = np.random.default_rng(0)
    x = rng.integers(0, 255, (20, 6, 6, 3)).astype("uint8")
    y = rng.integers(0, 10, (20, 1)).astype("uint8")
    augmentation.layers[0].adapt(x)
    assert model.count_params() == 573
    assert [w.path for w in augmentation.weights] == [
        "data_augmentation/normalization/mean",
        "data_augmentation/normalization/variance",
        "data_augmentation/normalization/count",
    ]
    model.compile(
        optimizer=keras.optimizers.AdamW(learning_rate=0.001, weight_decay=0.0001),
        loss=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        metrics=[
            keras.metrics.SparseCategoricalAccuracy(name="accuracy"),
            keras.metrics.SparseTopKCategoricalAccuracy(5, name="top-5-accuracy"),
        ],
    )
    path = os.path.join(tmp_path, "checkpoint.weights.safetensors")
    checkpoint = keras.callbacks.ModelCheckpoint(
        path, monitor="val_accuracy", save_best_only=True, save_weights_only=True
    )
    capsys.readouterr()
    history = model.fit(
        x, y, batch_size=8, epochs=1, validation_split=0.1, callbacks=[checkpoint], verbose=2
    )
    (line,) = [text for text in capsys.readouterr().out.splitlines() if "/step" in text]
    names = [part.split(":")[0] for part in line.split(" - ")[3:]]
    assert names == [
        "accuracy",
        "loss",
        "top-5-accuracy",
        "val_accuracy",
        "val_loss",
        "val_top-5-accuracy",
    ]
    assert list(history.history) == names
    model.load_weights(path)
    _, accuracy, top_5_accuracy = model.evaluate(x, y, verbose=0)
    assert 0.0 <= accuracy <= top_5_accuracy <= 1.0


class Distiller(keras.Model):
    """The distillation example's model, with its Keras 3 `compute_loss` signature."""

    def __init__(self, student, teacher):
        super().__init__()
        self.teacher = teacher
        self.student = student

    def compile(
        self, optimizer, metrics, student_loss_fn, distillation_loss_fn, alpha, temperature
    ):
        super().compile(optimizer=optimizer, metrics=metrics)
        self.student_loss_fn = student_loss_fn
        self.distillation_loss_fn = distillation_loss_fn
        self.alpha = alpha
        self.temperature = temperature

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, allow_empty=False):
        teacher_pred = self.teacher(x, training=False)
        student_loss = self.student_loss_fn(y, y_pred)
        distillation_loss = self.distillation_loss_fn(
            ops.softmax(teacher_pred / self.temperature, axis=1),
            ops.softmax(y_pred / self.temperature, axis=1),
        ) * (self.temperature**2)
        return self.alpha * student_loss + (1 - self.alpha) * distillation_loss

    def call(self, x):
        return self.student(x)


def _conv_net(filters, name):
    return keras.Sequential(
        [
            keras.Input(shape=(8, 8, 1)),
            layers.Conv2D(filters, (3, 3), strides=(2, 2), padding="same"),
            layers.LeakyReLU(negative_slope=0.2),
            layers.MaxPooling2D(pool_size=(2, 2), strides=(1, 1), padding="same"),
            layers.Flatten(),
            layers.Dense(10),
        ],
        name=name,
    )


def _distiller():
    distiller = Distiller(student=_conv_net(2, "student"), teacher=_conv_net(4, "teacher"))
    distiller.compile(
        optimizer=keras.optimizers.Adam(),
        metrics=[keras.metrics.SparseCategoricalAccuracy()],
        student_loss_fn=keras.losses.SparseCategoricalCrossentropy(from_logits=True),
        distillation_loss_fn=keras.losses.KLDivergence(),
        alpha=0.1,
        temperature=10,
    )
    return distiller


def test_distiller_compute_loss_without_training_argument_evaluates():
    # Keras passes `training` to `compute_loss` only when the override takes it; evaluate
    # called the example's override with training=False and raised TypeError.
    rng = np.random.default_rng(0)
    x = rng.random((16, 8, 8, 1)).astype("float32")
    y = rng.integers(0, 10, (16,))
    distiller = _distiller()
    history = distiller.fit(x, y, epochs=1, batch_size=8, verbose=0, validation_data=(x, y))
    assert list(history.history) == [
        "loss",
        "sparse_categorical_accuracy",
        "val_loss",
        "val_sparse_categorical_accuracy",
    ]
    loss, accuracy = distiller.evaluate(x, y, verbose=0)
    expected = distiller.compute_loss(
        x=torch.as_tensor(x), y=torch.as_tensor(y), y_pred=distiller.student(x)
    )
    np.testing.assert_allclose(loss, float(expected), rtol=1e-5)
    assert distiller.metrics_names == ["loss", "compile_metrics"]


def test_compute_loss_override_receives_training_from_fit_and_evaluate():
    # Keras 3.15: training=True in the train step, False in the test step.
    seen = []

    class Recorder(keras.Model):
        def __init__(self):
            super().__init__()
            self.dense = layers.Dense(1)

        def call(self, x):
            return self.dense(x)

        def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
            seen.append(training)
            return super().compute_loss(x, y, y_pred, sample_weight, training=training)

    model = Recorder()
    model.compile(optimizer="sgd", loss="mse")
    x = np.ones((4, 2), "float32")
    model.fit(x, x[:, :1], batch_size=4, epochs=1, verbose=0)
    model.evaluate(x, x[:, :1], verbose=0)
    # (Keras also calls it once with training=False while building, before the first step.)
    assert seen[-2:] == [True, False]


def test_distiller_summary_counts_optimizer_bytes_with_an_int32_iteration_counter():
    # Keras 3.15's torch backend keeps `iterations` as int32, so the summary's optimizer
    # line reads "18 (72.00 B)" for this model (int64 made it 76.00 B).
    model = keras.Sequential([keras.Input((3,)), layers.Dense(2)])
    model.compile(optimizer=keras.optimizers.Adam(), loss="mse")
    model.fit(np.ones((2, 3), "float32"), np.ones((2, 2), "float32"), verbose=0)
    assert ops.dtype(model.optimizer.iterations) == "int32"
    printed = []
    model.summary(print_fn=printed.append)
    text = "\n".join(printed)
    assert " Total params: 26 (104.00 B)" in text
    assert " Optimizer params: 18 (72.00 B)" in text


def euclidean_distance(vects):
    x, y = vects
    sum_square = ops.sum(ops.square(x - y), axis=1, keepdims=True)
    return ops.sqrt(ops.maximum(sum_square, keras.backend.epsilon()))


def contrastive_loss_with(margin=1):
    def contrastive_loss(y_true, y_pred):
        square_pred = ops.square(y_pred)
        margin_square = ops.square(ops.maximum(margin - (y_pred), 0))
        return ops.mean((1 - y_true) * square_pred + (y_true) * margin_square)

    return contrastive_loss


def _siamese():
    inputs = layers.Input((6, 6, 1))
    x = layers.BatchNormalization()(inputs)
    x = layers.Conv2D(2, (3, 3), activation="tanh")(x)
    x = layers.AveragePooling2D(pool_size=(2, 2))(x)
    x = layers.Flatten()(x)
    x = layers.Dense(4, activation="tanh")(x)
    embedding_network = keras.Model(inputs, x)
    input_1 = layers.Input((6, 6, 1))
    input_2 = layers.Input((6, 6, 1))
    merged = layers.Lambda(euclidean_distance, output_shape=(1,))(
        [embedding_network(input_1), embedding_network(input_2)]
    )
    output = layers.Dense(1, activation="sigmoid")(layers.BatchNormalization()(merged))
    siamese = keras.Model(inputs=[input_1, input_2], outputs=output)
    siamese.compile(loss=contrastive_loss_with(margin=1), optimizer="RMSprop", metrics=["accuracy"])
    return siamese


def test_siamese_missing_input_error_names_the_inputs_as_keras():
    # Keras 3.15 names the inputs of a list-input functional model too (message checked).
    keras.utils.clear_session()
    siamese = _siamese()
    x = np.zeros((2, 6, 6), "float32")
    expected = (
        "Layer \"functional_1\" expects 2 named input(s) with keys ['input_layer_1', "
        "'input_layer_2'], but it received 1 input tensors. Pass inputs as a dict, e.g. "
        "`layer({'input_layer_1': ..., 'input_layer_2': ...})`."
    )
    for wrong in ([x], x):
        with pytest.raises(ValueError) as error:
            siamese.predict(wrong, verbose=0)
        assert str(error.value).startswith(expected)


def test_dict_input_count_error_lists_the_sorted_dict_keys():
    # Keras 3.15 names a dict-input model's inputs by its sorted keys, not the Input names.
    a = keras.Input((3,), name="a")
    b = keras.Input((3,), name="b")
    model = keras.Model({"zz": a, "yy": b}, layers.Add()([a, b]))
    with pytest.raises(ValueError, match=r"with keys \['yy', 'zz'\], but it received 1 input"):
        model([np.ones((2, 3), "float32")])


def test_siamese_reload_without_the_lambda_function_raises_type_error(tmp_path):
    # Keras 3.15 raises TypeError when the saved Lambda's function cannot be found; the
    # error here stays an ArchiveError (a ValueError) as well.
    siamese = _siamese()
    path = os.path.join(tmp_path, "siamese.keras")
    siamese.save(path)
    custom = {"contrastive_loss": contrastive_loss_with(1)}
    with pytest.raises(TypeError, match="Could not locate function 'euclidean_distance'") as error:
        keras.models.load_model(path, custom_objects=custom)
    custom["euclidean_distance"] = euclidean_distance
    reloaded = keras.models.load_model(path, custom_objects=custom)
    pairs = [np.random.rand(3, 6, 6, 1).astype("float32") for _ in range(2)]
    np.testing.assert_allclose(
        reloaded.predict(pairs, verbose=0), siamese.predict(pairs, verbose=0), atol=1e-6
    )
    assert isinstance(error.value, keras.saving.ArchiveError)
