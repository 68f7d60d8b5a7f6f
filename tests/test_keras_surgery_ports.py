"""keras.io "PixelCNN" and model surgery as Keras users write it (feature extractors,
Grad-CAM, freezing, cloning, `pop`), ported by changing only the import.

Each test pins one behaviour that differed from Keras 3.15 (torch backend) when the program
ran here, or one the program relies on; the expected values were checked against Keras.
"""

import warnings

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers, ops


class PixelConvLayer(layers.Layer):
    def __init__(self, mask_type, **kwargs):
        super().__init__()
        self.mask_type = mask_type
        self.conv = layers.Conv2D(**kwargs)

    def build(self, input_shape):
        self.conv.build(input_shape)
        kernel_shape = ops.shape(self.conv.kernel)
        self.mask = np.zeros(shape=kernel_shape)
        self.mask[: kernel_shape[0] // 2, ...] = 1.0
        self.mask[kernel_shape[0] // 2, : kernel_shape[1] // 2, ...] = 1.0
        if self.mask_type == "B":
            self.mask[kernel_shape[0] // 2, kernel_shape[1] // 2, ...] = 1.0

    def call(self, inputs):
        self.conv.kernel.assign(self.conv.kernel * self.mask)
        return self.conv(inputs)


class ResidualBlock(layers.Layer):
    def __init__(self, filters, **kwargs):
        super().__init__(**kwargs)
        self.conv1 = layers.Conv2D(filters=filters, kernel_size=1, activation="relu")
        self.pixel_conv = PixelConvLayer(
            mask_type="B", filters=filters // 2, kernel_size=3, activation="relu", padding="same"
        )
        self.conv2 = layers.Conv2D(filters=filters, kernel_size=1, activation="relu")

    def call(self, inputs):
        x = self.conv2(self.pixel_conv(self.conv1(inputs)))
        return layers.add([inputs, x])


def test_pixelcnn_masks_its_kernels_trains_and_samples_without_numpy_warnings():
    keras.utils.set_random_seed(0)
    inputs = keras.Input(shape=(8, 8, 1))
    x = PixelConvLayer(mask_type="A", filters=16, kernel_size=7, activation="relu", padding="same")(
        inputs
    )
    x = ResidualBlock(filters=16)(x)
    x = PixelConvLayer(mask_type="B", filters=16, kernel_size=1, activation="relu")(x)
    out = layers.Conv2D(filters=1, kernel_size=1, activation="sigmoid")(x)
    pixel_cnn = keras.Model(inputs, out)
    pixel_cnn.compile(optimizer=keras.optimizers.Adam(0.0005), loss="binary_crossentropy")
    # Checked against Keras 3.15: 800 + 1,576 + 272 + 17 params, all trainable.
    assert [layer.count_params() for layer in pixel_cnn.layers] == [0, 800, 1576, 272, 17]
    assert len(pixel_cnn.non_trainable_weights) == 0
    data = (np.random.rand(32, 8, 8, 1) > 0.5).astype("float32")
    with warnings.catch_warnings():
        # `kernel * numpy_mask` once went through numpy (a NumPy 2 DeprecationWarning).
        warnings.simplefilter("error")
        history = pixel_cnn.fit(
            data, data, batch_size=8, epochs=1, validation_split=0.25, verbose=0
        )
        pixels = np.zeros(shape=(2,) + pixel_cnn.input_shape[1:])
        for row in range(2):
            for col in range(8):
                probs = pixel_cnn.predict(pixels, verbose=0)[:, row, col, 0]
                sample = ops.ceil(ops.convert_to_tensor(probs) - keras.random.uniform(probs.shape))
                pixels[:, row, col, 0] = ops.convert_to_numpy(sample)
    assert sorted(history.history) == ["loss", "val_loss"]
    assert set(np.unique(pixels).tolist()) <= {0.0, 1.0}
    kernel = ops.convert_to_numpy(pixel_cnn.layers[1].conv.kernel)
    assert np.abs(kernel[3, 3:]).sum() == 0 and np.abs(kernel[4:]).sum() == 0


def test_variable_with_a_numpy_array_operand_keeps_the_gradient_and_keras_dtypes():
    variable = keras.Variable(initializer=[[1.0, 2.0], [3.0, 4.0]])
    array = np.array([[2.0, 0.5], [1.0, 3.0]])
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        product = variable * array
        quotient = variable // array
        matmul = variable @ array
    # Checked against Keras 3.15: a float64 torch tensor on the gradient path for `*`, the
    # variable's float32 for `//` and `@`.
    assert isinstance(product, torch.Tensor) and product.dtype == torch.float64
    assert product.requires_grad
    assert quotient.dtype == torch.float32 and quotient.tolist() == [[0.0, 4.0], [3.0, 1.0]]
    assert matmul.dtype == torch.float32 and matmul.tolist() == [[4.0, 6.5], [10.0, 13.5]]
    (grad,) = torch.autograd.grad(product.sum(), variable)
    np.testing.assert_array_equal(grad.numpy(), array.astype("float32"))
    # The array on the left gives numpy's float64 result, as in Keras 3.15.
    reflected = array - variable
    assert isinstance(reflected, np.ndarray) and reflected.dtype == np.float64
    assert reflected.tolist() == [[1.0, -1.5], [-2.0, -1.0]]


def small_classifier():
    inp = keras.Input((8, 8, 3), name="img")
    h = layers.Conv2D(4, 3, activation="relu", name="conv_a")(inp)
    h = layers.Conv2D(6, 3, activation="relu", name="last_conv")(h)
    h = layers.GlobalAveragePooling2D(name="gap")(h)
    return keras.Model(inp, layers.Dense(3, activation="softmax", name="pred")(h), name="small")


def test_grad_cam_takes_torch_gradients_of_the_class_score_wrt_the_last_conv_output():
    keras.utils.set_random_seed(1)
    model = small_classifier()
    grad_model = keras.Model(model.inputs, [model.get_layer("last_conv").output, model.output])
    # Checked against Keras 3.15.
    assert grad_model.output_shape == [(None, 4, 4, 6), (None, 3)]
    img = torch.tensor(np.random.rand(2, 8, 8, 3).astype("float32"))
    conv_out, preds = grad_model(img)
    assert conv_out.requires_grad
    class_channel = preds[:, ops.argmax(preds[0])]
    (grads,) = torch.autograd.grad(class_channel.sum(), conv_out)
    assert tuple(grads.shape) == (2, 4, 4, 6)
    pooled = ops.mean(grads, axis=(0, 1, 2))
    heatmap = ops.squeeze(conv_out[0] @ pooled[..., None])
    heatmap = ops.maximum(heatmap, 0) / ops.max(heatmap)
    assert tuple(heatmap.shape) == (4, 4)
    np.testing.assert_allclose(preds.detach().numpy(), model.predict(img, verbose=0), atol=1e-6)


def test_load_model_after_unfreezing_skips_the_optimizer_state_with_a_warning(tmp_path):
    keras.utils.set_random_seed(2)
    base = keras.Sequential(
        [keras.Input((4,)), layers.Dense(3), layers.BatchNormalization(), layers.Dense(3)],
        name="base",
    )
    inputs = keras.Input((4,))
    full = keras.Model(inputs, layers.Dense(1)(base(inputs, training=False)))
    base.layers[0].trainable = False
    full.compile(optimizer=keras.optimizers.Adam(1e-3), loss="mse")
    full.fit(np.random.rand(8, 4), np.random.rand(8, 1), epochs=1, batch_size=4, verbose=0)
    full.trainable = False
    full.trainable = True
    full.save(tmp_path / "full.keras")
    # Checked against Keras 3.15: it warns that the optimizer's 18 variables do not match the
    # 14 saved, and loads the model and its weights.
    with pytest.warns(UserWarning, match="has 18 variables but the state holds 14"):
        loaded = keras.models.load_model(tmp_path / "full.keras")
    assert (len(loaded.trainable_weights), len(loaded.non_trainable_weights)) == (8, 2)
    for saved, restored in zip(full.get_weights(), loaded.get_weights()):
        np.testing.assert_array_equal(restored, saved)


def test_set_weights_with_a_short_list_gives_keras_message():
    model = keras.Sequential([keras.Input((4,)), layers.Dense(3), layers.Dense(2)])
    # Checked against Keras 3.15.
    with pytest.raises(
        ValueError,
        match=r"You called `set_weights\(weights\)` on layer 'sequential(_\d+)?' with a weight "
        r"list of length 3, but the layer was expecting 4 weights\.",
    ):
        model.set_weights(model.get_weights()[:-1])
