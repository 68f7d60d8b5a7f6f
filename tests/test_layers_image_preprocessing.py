"""Image preprocessing and augmentation layers, CategoryEncoding and Discretization.

Deterministic cases (fixed crops, flips, fixed-factor warps, resizing, encodings, adapted
boundaries) are compared with torch / float64 numpy references or with numbers checked
against Keras 3.15 (torch backend), as noted. Random draws cannot match Keras's RNG, so
for them the tests check ranges, distributions and seeded reproducibility.
"""

import math

import numpy as np
import pytest
import torch
import torch.nn.functional as F

import tritonlayers as keras
from tritonlayers import layers

ROW = torch.tensor([1.0, 2.0, 3.0, 4.0, 5.0]).reshape(1, 5, 1)  # one 1x5 grey image

# One instance per layer with a random-looking setup; shared by the contract tests.
LAYER_FACTORIES = {
    "CenterCrop": lambda df: layers.CenterCrop(3, 4, data_format=df),
    "Resizing": lambda df: layers.Resizing(4, 7, data_format=df),
    "RandomFlip": lambda df: layers.RandomFlip(seed=1, data_format=df),
    "RandomCrop": lambda df: layers.RandomCrop(3, 4, seed=2, data_format=df),
    "RandomTranslation": lambda df: layers.RandomTranslation(0.3, 0.2, seed=3, data_format=df),
    "RandomRotation": lambda df: layers.RandomRotation(0.2, seed=4, data_format=df),
    "RandomZoom": lambda df: layers.RandomZoom(0.3, 0.1, seed=5, data_format=df),
    "RandomContrast": lambda df: layers.RandomContrast(0.5, seed=6, data_format=df),
    "RandomBrightness": lambda df: layers.RandomBrightness(0.2, seed=7, data_format=df),
}
RANDOM_LAYERS = [name for name in LAYER_FACTORIES if name.startswith("Random")]


def _images(shape, seed=0):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 255


def _warp_reference(image: np.ndarray, matrix, fill_mode: str, fill_value: float) -> np.ndarray:
    """float64 bilinear warp of an (H, W) image, Keras's convention and fill modes."""
    height, width = image.shape

    def fix(index, size):
        if fill_mode == "wrap":
            return index % size, True
        if fill_mode == "reflect":
            period = index % (2 * size)
            return (period if period < size else 2 * size - 1 - period), True
        return min(max(index, 0), size - 1), (fill_mode == "nearest" or 0 <= index < size)

    out = np.zeros((height, width))
    a0, a1, a2, b0, b1, b2 = matrix
    for row in range(height):
        for col in range(width):
            x, y = a0 * col + a1 * row + a2, b0 * col + b1 * row + b2
            x0, y0 = math.floor(x), math.floor(y)
            for dy, wy in ((0, 1 - (y - y0)), (1, y - y0)):
                for dx, wx in ((0, 1 - (x - x0)), (1, x - x0)):
                    r, r_ok = fix(y0 + dy, height)
                    c, c_ok = fix(x0 + dx, width)
                    value = image[r, c] if r_ok and c_ok else fill_value
                    out[row, col] += wy * wx * value
    return out


# --------------------------------------------------------------------- CenterCrop


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_center_crop_takes_the_centre_window(data_format):
    images = _images((2, 7, 8, 3))
    expected = images[:, 2:5, 2:6, :]
    if data_format == "channels_first":
        images, expected = images.permute(0, 3, 1, 2), expected.permute(0, 3, 1, 2)
    out = layers.CenterCrop(3, 4, data_format=data_format)(images)
    torch.testing.assert_close(out, expected, rtol=0, atol=0)
    torch.testing.assert_close(
        layers.CenterCrop(3, 4, data_format=data_format)(images[0]), expected[0]
    )


def test_center_crop_of_smaller_image_crops_to_aspect_then_resizes():
    image = torch.arange(12.0).reshape(3, 4, 1)
    out = layers.CenterCrop(4, 2)(image)[..., 0]
    # Checked against Keras 3.15: keras.layers.CenterCrop(4, 2) on this image.
    expected = [[1.0, 1.0], [3.5, 3.5], [6.5, 6.5], [9.0, 9.0]]
    torch.testing.assert_close(out, torch.tensor(expected), rtol=0, atol=1e-6)


# ----------------------------------------------------------------------- Resizing


@pytest.mark.parametrize(
    ("interpolation", "mode"),
    [("bilinear", "bilinear"), ("nearest", "nearest-exact"), ("bicubic", "bicubic")],
)
def test_resizing_matches_torch_interpolate(interpolation, mode):
    images = _images((2, 6, 9, 3)).double()
    layer = layers.Resizing(4, 5, interpolation=interpolation, dtype="float64")
    corners = {} if mode == "nearest-exact" else {"align_corners": False}
    expected = F.interpolate(images.permute(0, 3, 1, 2), size=(4, 5), mode=mode, **corners)
    torch.testing.assert_close(layer(images), expected.permute(0, 2, 3, 1), rtol=0, atol=1e-10)


def test_resizing_crop_to_aspect_ratio_resizes_the_centre_box():
    images = _images((1, 6, 12, 1)).double()
    out = layers.Resizing(3, 3, crop_to_aspect_ratio=True, dtype="float64")(images)
    box = images[:, :, 3:9, :].permute(0, 3, 1, 2)  # the centred 6x6 square
    expected = F.interpolate(box, size=(3, 3), mode="bilinear", align_corners=False)
    torch.testing.assert_close(out, expected.permute(0, 2, 3, 1), rtol=0, atol=1e-10)


def test_resizing_pad_to_aspect_ratio_pads_with_fill_value():
    image = torch.ones(2, 4, 1)
    out = layers.Resizing(4, 4, pad_to_aspect_ratio=True, fill_value=-1.0)(image)[..., 0]
    expected = torch.tensor([[-1.0] * 4, [1.0] * 4, [1.0] * 4, [-1.0] * 4])
    torch.testing.assert_close(out, expected)


def test_resizing_returns_integer_images_rounded_in_their_dtype():
    image = torch.tensor([[0, 255], [255, 0]], dtype=torch.uint8).reshape(2, 2, 1)
    out = layers.Resizing(3, 3)(image)
    assert out.dtype == torch.uint8
    reference = F.interpolate(image.permute(2, 0, 1)[None].float(), size=(3, 3), mode="bilinear")
    torch.testing.assert_close(out[..., 0], reference[0, 0].round().to(torch.uint8))


# ---------------------------------------------------------------- shared contracts


@pytest.mark.parametrize("name", [name for name in RANDOM_LAYERS if name != "RandomCrop"])
def test_random_layers_are_identity_outside_training(name):
    images = _images((2, 6, 8, 3))
    out = LAYER_FACTORIES[name](None)(images, training=False)
    torch.testing.assert_close(out, images, rtol=0, atol=0)


@pytest.mark.parametrize("name", ["RandomFlip", "RandomRotation", "RandomContrast"])
def test_a_direct_call_augments_as_in_keras(name):
    # Keras 3.15's augmentation layers default to training=True when called directly.
    images = _images((4, 6, 8, 3))
    factories = {
        "RandomFlip": lambda: layers.RandomFlip(seed=1),
        "RandomRotation": lambda: layers.RandomRotation(0.3, seed=1),
        "RandomContrast": lambda: layers.RandomContrast(0.5, seed=1),
    }
    assert not torch.equal(factories[name]()(images), images)


@pytest.mark.parametrize("name", LAYER_FACTORIES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_compute_output_shape_equals_output_shape_in_and_out_of_training(
    name, data_format, batched
):
    shape = (2, 6, 8, 3) if data_format == "channels_last" else (2, 3, 6, 8)
    shape = shape if batched else shape[1:]
    layer = LAYER_FACTORIES[name](data_format)
    for training in (True, False):
        out = layer(_images(shape), training=training)
        assert tuple(out.shape) == layer.compute_output_shape(shape)


@pytest.mark.parametrize("name", RANDOM_LAYERS)
def test_same_seed_gives_same_augmentations_and_each_call_a_new_one(name):
    images = _images((4, 6, 8, 3))
    first, twin = LAYER_FACTORIES[name](None), LAYER_FACTORIES[name](None)
    a1, b1 = first(images, training=True), twin(images, training=True)
    a2, b2 = first(images, training=True), twin(images, training=True)
    torch.testing.assert_close(a1, b1, rtol=0, atol=0)
    torch.testing.assert_close(a2, b2, rtol=0, atol=0)
    # RandomFlip/RandomCrop have few outcomes; compare a few calls, not one.
    later = [first(images, training=True) for _ in range(4)]
    assert any(not torch.equal(a1, other) for other in [a2, *later])


@pytest.mark.parametrize("name", LAYER_FACTORIES)
def test_config_round_trip_rebuilds_an_equal_layer(name):
    layer = LAYER_FACTORIES[name]("channels_first")
    config = layer.get_config()
    clone = type(layer).from_config(config)
    assert clone.get_config() == config
    images = _images((2, 3, 6, 8))
    torch.testing.assert_close(clone(images, training=True), layer(images, training=True))


@pytest.mark.parametrize("name", LAYER_FACTORIES)
def test_rank_two_input_is_rejected_naming_the_layer(name):
    with pytest.raises(ValueError, match=f"{name}: expected images of rank 3"):
        LAYER_FACTORIES[name](None)(torch.zeros(6, 8), training=True)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: layers.CenterCrop(0, 3), "CenterCrop: `height` must be a positive integer"),
        (lambda: layers.Resizing(3, 3, interpolation="area"), "Resizing: unknown `interpolation`"),
        (
            lambda: layers.Resizing(3, 3, crop_to_aspect_ratio=True, pad_to_aspect_ratio=True),
            "Resizing: only one of",
        ),
        (lambda: layers.RandomFlip("diagonal"), "RandomFlip: unknown `mode`"),
        (lambda: layers.RandomCrop(2, -1), "RandomCrop: `width` must be a positive integer"),
        (lambda: layers.RandomTranslation(1.5, 0.0), "RandomTranslation: the `height_factor`"),
        (lambda: layers.RandomTranslation(0.1, 0.1, fill_mode="mirror"), "RandomTranslation: "),
        (lambda: layers.RandomRotation(2.0), r"RandomRotation: the `factor`.*\[-1, 1\]"),
        (lambda: layers.RandomRotation(0.1, interpolation="bicubic"), "RandomRotation: unknown"),
        (lambda: layers.RandomZoom(-1.0), r"RandomZoom: the `height_factor`.*\(-1, 1\]"),
        (lambda: layers.RandomZoom(0.1, (0.1, 0.2, 0.3)), "RandomZoom: the `width_factor`"),
        (lambda: layers.RandomContrast(1.5), r"RandomContrast: the `factor`.*\[0, 1\]"),
        (lambda: layers.RandomBrightness(0.1, value_range=(1,)), "RandomBrightness: .*value_range"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ---------------------------------------------------------------------- RandomFlip


def test_random_flip_horizontal_flips_about_half_of_the_images():
    images = _images((400, 2, 3, 1))
    out = layers.RandomFlip("horizontal", seed=0)(images, training=True)
    flipped = (out == images.flip(2)).flatten(1).all(1)
    kept = (out == images).flatten(1).all(1)
    assert bool((flipped | kept).all())
    assert abs(flipped.float().mean().item() - 0.5) < 5 * math.sqrt(0.25 / 400)


def test_random_flip_both_modes_flip_rows_and_columns_together():
    images = _images((200, 2, 3, 1))
    out = layers.RandomFlip(seed=1)(images, training=True)
    both = (out == images.flip(1).flip(2)).flatten(1).all(1)
    kept = (out == images).flatten(1).all(1)
    assert bool((both | kept).all()) and bool(both.any()) and bool(kept.any())


def test_random_flip_vertical_channels_first_flips_rows():
    images = _images((200, 1, 3, 2))
    out = layers.RandomFlip("vertical", seed=2, data_format="channels_first")(images, training=True)
    flipped = (out == images.flip(2)).flatten(1).all(1)
    assert bool((flipped | (out == images).flatten(1).all(1)).all()) and bool(flipped.any())


# ---------------------------------------------------------------------- RandomCrop


def test_random_crop_windows_are_slices_at_uniform_offsets():
    image = torch.arange(20.0).reshape(4, 5, 1)
    layer = layers.RandomCrop(2, 3, seed=3)
    corners = []
    for _ in range(600):
        out = layer(image, training=True)[..., 0]
        top, left = int(out[0, 0]) // 5, int(out[0, 0]) % 5
        torch.testing.assert_close(out, image[top : top + 2, left : left + 3, 0])
        corners.append(top * 3 + left)
    counts = np.bincount(corners, minlength=9)  # 3 x 3 possible corners
    assert counts.min() > 600 / 9 - 5 * math.sqrt(600 / 9)


def test_random_crop_of_small_image_falls_back_like_keras():
    image = torch.arange(12.0).reshape(3, 4, 1)
    out = layers.RandomCrop(4, 4)(image, training=True)[..., 0]
    # Checked against Keras 3.15: keras.layers.RandomCrop(4, 4)(image, training=True).
    expected = [[0, 1, 2, 3], [2.5, 3.5, 4.5, 5.5], [5.5, 6.5, 7.5, 8.5], [8, 9, 10, 11]]
    torch.testing.assert_close(out, torch.tensor(expected), rtol=0, atol=1e-5)


def test_random_crop_outside_training_resizes_the_centre_aspect_window():
    images = _images((2, 6, 12, 3)).double()
    out = layers.RandomCrop(3, 3, dtype="float64")(images, training=False)
    square = images[:, :, 3:9].permute(0, 3, 1, 2)  # the centred 6x6 window
    expected = F.interpolate(square, size=(3, 3), mode="bilinear", align_corners=False)
    torch.testing.assert_close(out, expected.permute(0, 2, 3, 1), rtol=0, atol=1e-10)


def test_random_crop_outside_training_keeps_images_of_the_target_size():
    images = _images((2, 3, 4, 1))
    out = layers.RandomCrop(3, 4)(images, training=False)
    torch.testing.assert_close(out, images, rtol=0, atol=0)


# ------------------------------------------------------------ translation / warps


@pytest.mark.parametrize(
    ("fill_mode", "right_2", "left_1_5"),
    # Checked against Keras 3.15: RandomTranslation(0, (0.4, 0.4)) and (0, (-0.3, -0.3)).
    [
        ("constant", [-1, -1, 1, 2, 3], [2.5, 3.5, 4.5, 2.0, -1]),
        ("nearest", [1, 1, 1, 2, 3], [2.5, 3.5, 4.5, 5.0, 5.0]),
        ("reflect", [2, 1, 1, 2, 3], [2.5, 3.5, 4.5, 5.0, 4.5]),
        ("wrap", [4, 5, 1, 2, 3], [2.5, 3.5, 4.5, 3.0, 1.5]),
    ],
)
def test_random_translation_fixed_shift_fills_like_keras(fill_mode, right_2, left_1_5):
    def shift(factor):
        layer = layers.RandomTranslation(0.0, factor, fill_mode=fill_mode, fill_value=-1.0)
        return layer(ROW, training=True).flatten()

    torch.testing.assert_close(shift((0.4, 0.4)), torch.tensor(right_2, dtype=torch.float32))
    torch.testing.assert_close(shift((-0.3, -0.3)), torch.tensor(left_1_5), atol=1e-5, rtol=0)


def test_random_translation_shifts_stay_in_range_and_cover_it():
    images = torch.zeros(500, 1, 21, 1)
    images[:, 0, 10] = 1.0  # one lit pixel in the middle
    layer = layers.RandomTranslation(
        0.0, 0.2, fill_mode="constant", interpolation="nearest", seed=4
    )
    moved = layer(images, training=True)[:, 0, :, 0].argmax(dim=1) - 10
    limit = 0.2 * 21
    assert moved.abs().max().item() <= limit
    assert moved.min().item() <= -3 and moved.max().item() >= 3
    assert abs(moved.float().mean().item()) < 5 * (limit / math.sqrt(3)) / math.sqrt(500)


def test_random_rotation_quarter_turn_is_rot90():
    image = _images((5, 5, 2))
    out = layers.RandomRotation((0.25, 0.25))(image, training=True)
    torch.testing.assert_close(out, torch.rot90(image, 1, dims=(0, 1)), rtol=0, atol=1e-3)


def test_random_rotation_zero_factor_is_identity():
    image = _images((4, 6, 8, 3))
    out = layers.RandomRotation(0.0)(image, training=True)
    torch.testing.assert_close(out, image, rtol=0, atol=1e-3)


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "reflect", "wrap"])
def test_random_zoom_fixed_factors_match_float64_reference(fill_mode):
    image = _images((7, 9), seed=5).double()
    layer = layers.RandomZoom(
        (0.3, 0.3), (-0.4, -0.4), fill_mode=fill_mode, fill_value=2.0, dtype="float64"
    )
    out = layer(image[..., None], training=True)[..., 0]
    # 1 + the width / height factor, as drawn (in float32) by `random.uniform`.
    zoom_x, zoom_y = 1 + float(np.float32(-0.4)), 1 + float(np.float32(0.3))
    matrix = (zoom_x, 0, 4 * (1 - zoom_x), 0, zoom_y, 3 * (1 - zoom_y))
    expected = _warp_reference(image.numpy(), matrix, fill_mode, 2.0)
    np.testing.assert_allclose(out.numpy(), expected, rtol=0, atol=1e-9)


def test_random_rotation_random_angles_match_float64_reference_per_image():
    images = _images((3, 6, 7, 1), seed=6).double()
    layer = layers.RandomRotation(0.5, fill_mode="reflect", seed=8, dtype="float64")
    draw_twin = layers.RandomRotation(0.5, seed=8, dtype="float64")
    angles = keras.random.uniform((3,), -180.0, 180.0, seed=draw_twin.seed_generator)
    out = layer(images, training=True)
    for i, degrees in enumerate(angles.tolist()):
        cos, sin = math.cos(math.radians(degrees)), math.sin(math.radians(degrees))
        cx, cy = 3.0, 2.5
        matrix = (cos, -sin, cx - cx * cos + cy * sin, sin, cos, cy - cx * sin - cy * cos)
        expected = _warp_reference(images[i, ..., 0].numpy(), matrix, "reflect", 0.0)
        np.testing.assert_allclose(out[i, ..., 0].numpy(), expected, rtol=0, atol=1e-4)


# -------------------------------------------------------- contrast and brightness


def test_random_contrast_fixed_factor_scales_about_channel_means():
    images = _images((2, 4, 5, 3)).double()
    layer = layers.RandomContrast((-0.5, 0.5), value_range=(-1e9, 1e9), dtype="float64")
    mean = images.mean(dim=(1, 2), keepdim=True)
    torch.testing.assert_close(layer(images, training=True), (images - mean) * 1.5 + mean)


def test_random_contrast_scales_lie_in_one_to_one_plus_factor():
    images = _images((400, 3, 3, 1)).double()
    layer = layers.RandomContrast(0.4, value_range=(-1e9, 1e9), seed=9, dtype="float64")
    out = layer(images, training=True)
    scales = out.flatten(1).std(dim=1) / images.flatten(1).std(dim=1)
    assert scales.min().item() >= 1.0 - 1e-9 and scales.max().item() <= 1.4 + 1e-9
    assert abs(scales.mean().item() - 1.2) < 5 * (0.4 / math.sqrt(12)) / math.sqrt(400)


def test_random_contrast_clips_to_value_range():
    image = torch.tensor([[[0.0], [10.0]]])
    out = layers.RandomContrast((-1.0, 1.0), value_range=(0, 12))(image, training=True)
    torch.testing.assert_close(out, torch.tensor([[[0.0], [12.0]]]))


def test_random_brightness_adds_one_offset_per_image_in_range():
    images = torch.full((500, 2, 2, 1), 0.5, dtype=torch.float64)
    layer = layers.RandomBrightness(0.2, value_range=(-10, 10), seed=10, dtype="float64")
    delta = layer(images, training=True) - images
    assert bool((delta == delta[:, :1, :1]).all())
    per_image = delta[:, 0, 0, 0]
    assert per_image.abs().max().item() <= 0.2 * 20
    assert abs(per_image.mean().item()) < 5 * (4 / math.sqrt(3)) / math.sqrt(500)


def test_random_brightness_clips_to_value_range():
    out = layers.RandomBrightness((0.5, 0.5), value_range=(0, 1))(ROW / 5, training=True)
    torch.testing.assert_close(out.flatten(), torch.tensor([0.7, 0.9, 1.0, 1.0, 1.0]))


# --------------------------------------------------------------- inside a model


def test_augmentation_runs_in_fit_and_not_in_predict():
    x, y = np.zeros((4, 3, 3, 1), "float32"), np.zeros((4, 1), "float32")
    model = keras.Sequential(
        [
            keras.Input((3, 3, 1)),
            layers.RandomBrightness((0.5, 0.5), value_range=(0, 10)),
            layers.Flatten(),
            layers.Dense(1, use_bias=False, kernel_initializer="ones"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx((9 * 5.0) ** 2)  # every pixel + 5
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.zeros((4, 1)))


def test_model_of_all_image_layers_fits_predicts_and_reloads(tmp_path):
    model = keras.Sequential(
        [keras.Input((8, 9, 3))]
        + [LAYER_FACTORIES[name](None) for name in LAYER_FACTORIES]
        + [layers.Flatten(), layers.Dense(1)]
    )
    x = _images((6, 8, 9, 3)).numpy() / 255
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.ones((6, 1), "float32"), batch_size=3, epochs=1, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), model.predict(x, verbose=0))


# --------------------------------------------------------------- CategoryEncoding


@pytest.mark.parametrize(
    ("mode", "inputs", "expected"),
    # Checked against Keras 3.15 (torch backend).
    [
        ("multi_hot", [0, 1, 1, 3], [1, 1, 0, 1]),
        ("multi_hot", [[0, 1], [3, 3]], [[1, 1, 0, 0], [0, 0, 0, 1]]),
        ("one_hot", [0, 1, 3], [[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1]]),
        ("one_hot", [[0], [3]], [[1, 0, 0, 0], [0, 0, 0, 1]]),
        ("count", [[0, 1, 1], [3, 3, 2]], [[1, 2, 0, 0], [0, 0, 1, 2]]),
    ],
)
def test_category_encoding_matches_keras(mode, inputs, expected):
    layer = layers.CategoryEncoding(4, output_mode=mode)
    out = layer(torch.tensor(inputs))
    torch.testing.assert_close(out, torch.tensor(expected, dtype=torch.float32))
    assert tuple(out.shape) == layer.compute_output_shape(np.shape(inputs))


def test_category_encoding_count_weights_weigh_each_occurrence():
    layer = layers.CategoryEncoding(5, output_mode="count")
    weights = torch.tensor([[0.5, 1.0, 2.0], [1.0, 3.0, 1.0]])
    out = layer(torch.tensor([[1, 1, 4], [0, 2, 2]]), count_weights=weights)
    # Checked against Keras 3.15.
    torch.testing.assert_close(out, torch.tensor([[0, 1.5, 0, 0, 2], [1, 0, 4, 0, 0]]))


def test_category_encoding_config_round_trip():
    layer = layers.CategoryEncoding(6, output_mode="binary")
    clone = layers.CategoryEncoding.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config() and clone.output_mode == "multi_hot"


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: layers.CategoryEncoding(), "CategoryEncoding: `num_tokens` must be set"),
        (lambda: layers.CategoryEncoding(0), r"CategoryEncoding: `num_tokens` must be .*>= 1"),
        (lambda: layers.CategoryEncoding(3, output_mode="tf_idf"), "CategoryEncoding: unknown"),
        (lambda: layers.CategoryEncoding(3, sparse=True), "CategoryEncoding: `sparse=True`"),
        (lambda: layers.CategoryEncoding(3)(torch.tensor([0, 3])), r"\[0, 3\)"),
        (
            lambda: layers.CategoryEncoding(3)(torch.tensor([0]), count_weights=torch.ones(1)),
            "CategoryEncoding: `count_weights` is not used",
        ),
    ],
)
def test_category_encoding_bad_input_raises(make, message):
    with pytest.raises(ValueError, match=message):
        make()


def test_category_encoding_and_discretization_train_inside_a_sequential_model():
    model = keras.Sequential(
        [
            keras.Input((3,)),
            layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0, 3.0]),
            layers.CategoryEncoding(5, output_mode="count"),
            layers.Dense(1, use_bias=False, kernel_initializer="ones"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.1), loss="mse")
    x = np.array([[0.5, 0.5, 3.5], [-1.0, 1.5, 2.5]], "float32")
    model.fit(x, np.ones((2, 1), "float32"), batch_size=2, epochs=2, verbose=0)
    counts = np.array([[0, 2, 0, 0, 1], [1, 0, 1, 1, 0]], "float32")
    kernel = model.layers[-1].kernel.numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), counts @ kernel, rtol=1e-6)


# ----------------------------------------------------------------- Discretization


@pytest.mark.parametrize(
    ("mode", "expected"),
    # Checked against Keras 3.15: Discretization([0., 1.]) on [[-1., .5], [2., 2.]].
    [
        ("int", [[0, 1], [2, 2]]),
        ("one_hot", [[[1, 0, 0], [0, 1, 0]], [[0, 0, 1], [0, 0, 1]]]),
        ("multi_hot", [[1, 1, 0], [0, 0, 1]]),
        ("count", [[1, 1, 0], [0, 0, 2]]),
    ],
)
def test_discretization_encodes_like_keras(mode, expected):
    layer = layers.Discretization(bin_boundaries=[0.0, 1.0], output_mode=mode)
    out = layer(torch.tensor([[-1.0, 0.5], [2.0, 2.0]]))
    dtype = torch.int32 if mode == "int" else torch.float32
    torch.testing.assert_close(out, torch.tensor(expected, dtype=dtype))
    assert tuple(out.shape) == layer.compute_output_shape((2, 2))


def test_discretization_value_on_a_boundary_goes_to_the_upper_bucket():
    layer = layers.Discretization(bin_boundaries=[0.0, 1.0, 2.0])
    out = layer(torch.tensor([[-1.5, 1.0, 3.4, 0.5], [0.0, 3.0, 1.3, 0.0]]))
    expected = [[0, 2, 3, 1], [1, 3, 2, 1]]  # checked against Keras 3.15
    torch.testing.assert_close(out, torch.tensor(expected, dtype=torch.int32))


@pytest.mark.parametrize(
    ("data", "num_bins", "epsilon", "expected"),
    # Boundaries checked against Keras 3.15's Discretization.adapt on the same data.
    [
        (
            np.arange(7.0),
            5,
            0.1,
            [0.3999999463558197, 1.7999999523162842, 3.1999998092651367, 4.599999904632568],
        ),
        (np.array([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]]), 3, 0.01, [2.0, 4.0]),
        (
            np.sin(np.arange(2000.0)) * 3,
            4,
            0.01,
            [-2.1257874965667725, -9.232389129465446e-05, 2.1258492469787598],
        ),
    ],
)
def test_discretization_adapt_finds_keras_boundaries(data, num_bins, epsilon, expected):
    layer = layers.Discretization(num_bins=num_bins, epsilon=epsilon)
    layer.adapt(data)
    np.testing.assert_allclose(layer.bin_boundaries, expected, rtol=1e-6, atol=1e-6)


def test_discretization_adapt_over_batches_equals_keras_streaming_merge():
    data = np.sin(np.arange(2000.0)) * 3
    whole, streamed = layers.Discretization(num_bins=4), layers.Discretization(num_bins=4)
    whole.adapt(data)
    streamed.adapt([data[:1000], data[1000:]])
    np.testing.assert_allclose(streamed.bin_boundaries, whole.bin_boundaries, rtol=0, atol=0.05)


def test_adapted_discretization_config_round_trip_keeps_boundaries():
    layer = layers.Discretization(num_bins=3)
    layer.adapt(np.arange(12.0))
    clone = layers.Discretization.from_config(layer.get_config())
    assert clone.bin_boundaries == layer.bin_boundaries == [3.0, 7.0]
    assert clone.get_config() == layer.get_config()


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: layers.Discretization(), "Discretization: you need to set either"),
        (lambda: layers.Discretization([1.0], num_bins=2), "Discretization: both `num_bins`"),
        (lambda: layers.Discretization([1.0], output_mode="x"), "Discretization: unknown"),
        (lambda: layers.Discretization(num_bins=-1), "Discretization: `num_bins` must be"),
        (lambda: layers.Discretization([1.0]).adapt(np.ones(3)), "Discretization: cannot adapt"),
        (lambda: layers.Discretization(num_bins=2)(torch.ones(2)), "call `adapt"),
    ],
)
def test_discretization_bad_input_raises(make, message):
    with pytest.raises(ValueError, match=message):
        make()
