"""Colour, spatial and mixing image augmentations (AutoContrast ... MaxNumBoundingBoxes).

Deterministic settings (fixed factors, AutoContrast, Equalization) are compared with
numbers computed by Keras 3.15 (torch backend) in a scratch script, as noted, or with
float64 numpy references. Random draws cannot match Keras's RNG, so for them the tests
check ranges, distributions and seeded reproducibility.
"""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import layers

# One image (1, 2, 3, 3) with distinct values per channel; the Keras numbers below use it.
IMAGE = torch.tensor(
    [
        [[10, 200, 30], [40, 50, 60], [70, 80, 255]],
        [[100, 110, 120], [130, 140, 150], [0, 170, 180]],
    ],
    dtype=torch.float32,
)[None]

LAYER_FACTORIES = {
    "AutoContrast": lambda df: layers.AutoContrast(data_format=df),
    "Equalization": lambda df: layers.Equalization(data_format=df),
    "RandomGrayscale": lambda df: layers.RandomGrayscale(0.5, data_format=df, seed=1),
    "RandomHue": lambda df: layers.RandomHue(0.5, data_format=df, seed=2),
    "RandomSaturation": lambda df: layers.RandomSaturation(0.8, data_format=df, seed=3),
    "RandomColorDegeneration": lambda df: layers.RandomColorDegeneration(
        0.5, data_format=df, seed=4
    ),
    "RandomColorJitter": lambda df: layers.RandomColorJitter(
        brightness_factor=0.2,
        contrast_factor=0.3,
        saturation_factor=0.6,
        hue_factor=0.2,
        seed=5,
        data_format=df,
    ),
    "RandomInvert": lambda df: layers.RandomInvert(seed=6, data_format=df),
    "RandomPosterization": lambda df: layers.RandomPosterization(6, data_format=df, seed=7),
    "Solarization": lambda df: layers.Solarization(0.3, 0.8, seed=8, data_format=df),
    "RandomSharpness": lambda df: layers.RandomSharpness(0.7, data_format=df, seed=9),
    "RandomShear": lambda df: layers.RandomShear(0.3, 0.2, data_format=df, seed=10),
    "RandomErasing": lambda df: layers.RandomErasing(seed=11, data_format=df),
    "RandomGaussianBlur": lambda df: layers.RandomGaussianBlur(data_format=df, seed=12),
    "RandomPerspective": lambda df: layers.RandomPerspective(seed=13, data_format=df),
    "RandomElasticTransform": lambda df: layers.RandomElasticTransform(seed=14, data_format=df),
    "MixUp": lambda df: layers.MixUp(data_format=df, seed=15),
    "CutMix": lambda df: layers.CutMix(seed=16, data_format=df),
    "RandAugment": lambda df: layers.RandAugment(seed=17, data_format=df),
    "AugMix": lambda df: layers.AugMix(seed=18, data_format=df),
    "MaxNumBoundingBoxes": lambda df: layers.MaxNumBoundingBoxes(5, data_format=df),
}
ALWAYS_ON = {"AutoContrast"}
IDENTITY = {"MaxNumBoundingBoxes"}
TRAINING_ONLY = [name for name in LAYER_FACTORIES if name not in ALWAYS_ON | IDENTITY]
SEEDED = [name for name in TRAINING_ONLY if name != "Equalization"]


def _images(shape, seed=0):
    return torch.rand(shape, generator=torch.Generator().manual_seed(seed)) * 255


# ---------------------------------------------------------------- shared contracts


@pytest.mark.parametrize("name", TRAINING_ONLY)
def test_training_only_layers_are_identity_outside_training(name):
    images = _images((2, 6, 8, 3))
    out = LAYER_FACTORIES[name](None)(images, training=False)
    torch.testing.assert_close(out, images, rtol=0, atol=0)


@pytest.mark.parametrize("name", LAYER_FACTORIES)
@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("batched", [True, False])
def test_compute_output_shape_equals_output_shape(name, data_format, batched):
    shape = (2, 6, 8, 3) if data_format == "channels_last" else (2, 3, 6, 8)
    shape = shape if batched else shape[1:]
    layer = LAYER_FACTORIES[name](data_format)
    for training in (True, False):
        out = layer(_images(shape), training=training)
        assert tuple(out.shape) == layer.compute_output_shape(shape)


@pytest.mark.parametrize("name", SEEDED)
def test_same_seed_gives_same_augmentations_and_each_call_a_new_one(name):
    images = _images((4, 6, 8, 3))
    first, twin = LAYER_FACTORIES[name](None), LAYER_FACTORIES[name](None)
    a1, b1 = first(images, training=True), twin(images, training=True)
    a2, b2 = first(images, training=True), twin(images, training=True)
    torch.testing.assert_close(a1, b1, rtol=0, atol=0)
    torch.testing.assert_close(a2, b2, rtol=0, atol=0)
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
def test_dict_inputs_are_rejected_naming_the_layer(name):
    with pytest.raises(ValueError, match=f"{name}: dict inputs"):
        LAYER_FACTORIES[name](None)({"images": _images((2, 6, 8, 3))}, training=True)


@pytest.mark.parametrize("name", LAYER_FACTORIES)
def test_rank_two_input_is_rejected_naming_the_layer(name):
    with pytest.raises(ValueError, match=f"{name}: expected images of rank 3"):
        LAYER_FACTORIES[name](None)(torch.zeros(6, 8), training=True)


@pytest.mark.parametrize(
    ("make", "message"),
    [
        (lambda: layers.AutoContrast(value_range=5), "AutoContrast: .*value_range"),
        (lambda: layers.Equalization(bins=1), "Equalization: `bins`"),
        (lambda: layers.RandomGrayscale(1.5), "RandomGrayscale: `factor`"),
        (lambda: layers.RandomHue(-0.5), r"RandomHue: the `factor`.*\[0, 1\]"),
        (lambda: layers.RandomSaturation(2.0), r"RandomSaturation: the `factor`"),
        (lambda: layers.RandomColorDegeneration(1.5), "RandomColorDegeneration: the `factor`"),
        (lambda: layers.RandomColorJitter(value_range=(1,)), "RandomColorJitter: .*value_range"),
        (lambda: layers.RandomColorJitter(hue_factor=3.0), "RandomHue: the `factor`"),
        (lambda: layers.RandomInvert(2.0), "RandomInvert: the `factor`"),
        (lambda: layers.RandomPosterization(9), r"RandomPosterization: .*\[1, 8\]"),
        (lambda: layers.Solarization(1.5), "Solarization: the `addition_factor`"),
        (lambda: layers.Solarization(0.1, (0.1, 0.2, 0.3)), "Solarization: the `threshold"),
        (lambda: layers.RandomSharpness(-1.0), "RandomSharpness: the `factor`"),
        (lambda: layers.RandomShear(1.5), "RandomShear: the `x_factor`"),
        (lambda: layers.RandomShear(0.1, fill_mode="mirror"), "RandomShear: unknown `fill"),
        (lambda: layers.RandomErasing(scale=2.0), "RandomErasing: the `scale`"),
        (lambda: layers.RandomErasing(fill_value=[1, 2]), "RandomErasing: the `fill_value`"),
        (lambda: layers.RandomGaussianBlur(kernel_size=4), "RandomGaussianBlur: `kernel_size`"),
        (lambda: layers.RandomGaussianBlur(sigma=2.0), "RandomGaussianBlur: the `sigma`"),
        (lambda: layers.RandomPerspective(scale=1.5), "RandomPerspective: the `scale`"),
        (
            lambda: layers.RandomPerspective(interpolation="bicubic"),
            "RandomPerspective: unknown `interpolation`",
        ),
        (
            lambda: layers.RandomElasticTransform(fill_mode="edge"),
            "RandomElasticTransform: unknown `fill_mode`",
        ),
        (lambda: layers.MixUp(alpha=0.0), "MixUp: `alpha`"),
        (lambda: layers.CutMix(factor=3.0), "CutMix: the `factor`"),
        (lambda: layers.RandAugment(num_ops=-1), "RandAugment: `num_ops`"),
        (lambda: layers.RandAugment(factor=1.5), "RandAugment: the `factor`"),
        (lambda: layers.AugMix(chain_depth=0), "AugMix: `chain_depth`"),
        (lambda: layers.AugMix(alpha=-1.0), "AugMix: `alpha`"),
        (lambda: layers.MaxNumBoundingBoxes(0), "MaxNumBoundingBoxes: `max_number`"),
    ],
)
def test_bad_arguments_raise_value_error_naming_the_layer(make, message):
    with pytest.raises(ValueError, match=message):
        make()


# ------------------------------------------------- deterministic settings vs Keras 3.15


def test_auto_contrast_matches_keras_and_applies_outside_training():
    # Keras 3.15: keras.layers.AutoContrast()(IMAGE) (it applies with training=False too).
    expected = [
        [[19.6154, 255.0, 0.0], [78.4615, 0.0, 34.0], [137.3077, 51.0, 255.0]],
        [[196.1538, 102.0, 102.0], [255.0, 153.0, 136.0], [0.0, 204.0, 170.0]],
    ]
    out = layers.AutoContrast()(IMAGE, training=False)
    np.testing.assert_allclose(out[0].numpy(), expected, atol=1e-3)


def test_auto_contrast_leaves_a_constant_channel_unchanged():
    image = torch.cat(
        [torch.full((2, 2, 1), 7.0), torch.tensor([[[1.0], [2.0]], [[3.0], [4.0]]])], -1
    )
    out = layers.AutoContrast()(image)
    torch.testing.assert_close(out[..., 0], image[..., 0])
    torch.testing.assert_close(out[..., 1], torch.tensor([[0.0, 85.0], [170.0, 255.0]]))


# Keras 3.15: Equalization()(batch, training=True), one histogram per channel over the batch.
EQUALIZED = [
    [
        [[51, 255, 46], [128, 46, 93], [204, 116, 255]],
        [[230, 185, 162], [255, 209, 209], [0, 232, 232]],
    ],
    [
        [[153, 70, 93], [178, 93, 116], [0, 139, 139]],
        [[26, 162, 0], [76, 0, 46], [102, 23, 185]],
    ],
]
EQUALIZED_8_BINS = [
    [
        [[0, 255, 0], [170, 93, 57], [170, 162, 255]],
        [[212, 209, 170], [255, 209, 227], [0, 232, 227]],
    ],
    [
        [[170, 93, 57], [170, 93, 113], [0, 162, 113]],
        [[0, 162, 0], [0, 0, 0], [0, 93, 170]],
    ],
]


@pytest.mark.parametrize(("bins", "expected"), [(256, EQUALIZED), (8, EQUALIZED_8_BINS)])
def test_equalization_matches_keras_over_the_batch(bins, expected):
    batch = torch.cat([IMAGE, IMAGE.flip(1) * 0.5])
    out = layers.Equalization(bins=bins)(batch, training=True)
    np.testing.assert_array_equal(out.numpy(), np.array(expected, dtype=np.float32))


def test_equalization_channels_first_equals_channels_last():
    batch = torch.cat([IMAGE, IMAGE.flip(1) * 0.5])
    out = layers.Equalization(data_format="channels_first")(
        batch.permute(0, 3, 1, 2), training=True
    )
    np.testing.assert_array_equal(out.permute(0, 2, 3, 1).numpy(), np.array(EQUALIZED, np.float32))


@pytest.mark.parametrize(
    ("make", "expected"),
    [
        # Keras 3.15, same fixed factors, on IMAGE.
        (
            lambda: layers.RandomHue((1.0, 1.0)),
            [
                [[200, 10, 180], [60, 50, 40], [255, 245, 70]],
                [[120, 110, 100], [150, 140, 130], [180, 10, 0]],
            ],
        ),
        (
            lambda: layers.RandomSaturation((0.25, 0.25)),
            [
                [[136.667, 200.0, 143.333], [53.333, 56.667, 60.0], [193.333, 196.667, 255.0]],
                [[113.333, 116.667, 120.0], [143.333, 146.667, 150.0], [120.0, 176.667, 180.0]],
            ],
        ),
        (
            lambda: layers.RandomSharpness((0.2, 0.2)),
            [
                [[18.769, 140.0, 34.154], [39.538, 63.846, 71.769], [52.0, 67.077, 178.846]],
                [[71.385, 87.385, 86.769], [92.154, 116.462, 124.385], [11.077, 119.692, 135.0]],
            ],
        ),
        (
            lambda: layers.RandomGaussianBlur((1.0, 1.0), sigma=(0.5, 0.5)),
            [
                [[19.403, 138.868, 35.37], [43.51, 69.348, 77.026], [48.182, 69.576, 179.751]],
                [[74.123, 97.194, 90.09], [93.157, 117.545, 126.31], [17.218, 124.296, 146.11]],
            ],
        ),
    ],
)
def test_fixed_factor_colour_layers_match_keras(make, expected):
    out = make()(IMAGE, training=True)
    np.testing.assert_allclose(out[0].numpy(), expected, atol=2e-3)


# ------------------------------------------------------ float64 numpy references


def _luma(images: np.ndarray) -> np.ndarray:
    return images @ np.array([0.2989, 0.587, 0.114])


def test_random_grayscale_factor_one_repeats_the_luma():
    images = _images((3, 4, 5, 3))
    out = layers.RandomGrayscale(1.0)(images, training=True).double().numpy()
    gray = _luma(images.double().numpy())[..., None].repeat(3, -1)
    np.testing.assert_allclose(out, gray, rtol=1e-5)


def test_random_grayscale_converts_a_factor_fraction_of_images():
    images = _images((400, 2, 2, 3))
    out = layers.RandomGrayscale(0.3, seed=0)(images, training=True)
    converted = (out[..., 0] == out[..., 1]).all(dim=(1, 2)).float().mean()
    assert abs(float(converted) - 0.3) < 0.07  # binomial sd ~0.023


@pytest.mark.parametrize("weight", [0.7, -0.4])
def test_random_color_degeneration_blends_towards_gray_and_clips(weight):
    images = _images((2, 3, 4, 3)).double()
    out = layers.RandomColorDegeneration((weight, weight), dtype="float64")(images, training=True)
    x = images.numpy()
    expected = np.clip(x + weight * (_luma(x)[..., None] - x), 0, 255)
    np.testing.assert_allclose(out.numpy(), expected, rtol=1e-6)  # weight drawn in float32


def test_random_invert_inverts_about_the_upper_end_half_the_time():
    images = _images((400, 1, 1, 1))
    out = layers.RandomInvert(seed=3)(images, training=True)
    inverted = torch.isclose(out, 255 - images) & ~torch.isclose(out, images)
    # probability ~ U(0, 1), then a coin under it: inverted with probability 1/2 overall.
    assert abs(float(inverted.float().mean()) - 0.5) < 0.08


@pytest.mark.parametrize("bits", [1, 3, 8])
def test_random_posterization_keeps_the_high_bits(bits):
    images = _images((2, 3, 4, 3)).floor()
    out = layers.RandomPosterization((bits, bits))(images, training=True)
    levels = images.numpy().astype(np.uint8)
    np.testing.assert_array_equal(out.numpy(), ((levels >> (8 - bits)) << (8 - bits)))


def test_random_posterization_bit_counts_cover_one_to_factor_minus_one():
    layer = layers.RandomPosterization(4, seed=0)  # Keras draws bits from [1, 4)
    images = torch.full((300, 1, 1, 1), 255.0)
    kept = set(layer(images, training=True).flatten().tolist())
    assert kept == {128.0, 192.0, 224.0}  # 1, 2 and 3 bits of 255


def test_solarization_defaults_invert_every_pixel_like_keras():
    # Keras 3.15: threshold 0 and addition 0 send every value to 255 - value.
    images = _images((2, 3, 4, 3))
    out = layers.Solarization()(images, training=True)
    torch.testing.assert_close(out, 255 - images)


def test_solarization_fixed_threshold_inverts_values_above_it_in_unit_range():
    images = torch.tensor([0.1, 0.4, 0.6, 0.9]).reshape(1, 4, 1)
    layer = layers.Solarization(threshold_factor=(0.5, 0.5), value_range=(0, 1))
    out = layer(images, training=True).flatten()
    torch.testing.assert_close(out, torch.tensor([0.1, 0.4, 0.4, 0.1]))


def test_random_color_jitter_brightness_step_shifts_by_the_fixed_factor():
    images = _images((2, 3, 4, 3))
    layer = layers.RandomColorJitter(brightness_factor=(0.1, 0.1))
    torch.testing.assert_close(layer(images, training=True), (images + 25.5).clamp(0, 255))


# ------------------------------------------------------------------------ spatial


def _shear_reference(image: np.ndarray, sx: float, sy: float) -> np.ndarray:
    """float64 bilinear read of (H, W) at (x + sx*y, sy*x + y), zeros outside."""
    height, width = image.shape
    out = np.zeros_like(image)
    for row in range(height):
        for col in range(width):
            x, y = col + sx * row, sy * col + row
            x0, y0 = int(np.floor(x)), int(np.floor(y))
            for r, wy in ((y0, 1 - (y - y0)), (y0 + 1, y - y0)):
                for c, wx in ((x0, 1 - (x - x0)), (x0 + 1, x - x0)):
                    if 0 <= r < height and 0 <= c < width:
                        out[row, col] += wy * wx * image[r, c]
    return out


def test_random_shear_fixed_amount_matches_float64_reference_with_either_sign():
    images = _images((8, 5, 6, 1)).double()
    layer = layers.RandomShear(
        (0.3, 0.3), (0.2, 0.2), fill_mode="constant", seed=0, dtype="float64"
    )
    out = layer(images, training=True).numpy()[..., 0]
    signs = []
    for image, result in zip(images.numpy()[..., 0], out):
        matches = [
            s
            for s in (1, -1)
            if np.allclose(result, _shear_reference(image, 0.3 * s, 0.2 * s), atol=1e-9)
        ]
        assert len(matches) == 1
        signs.append(matches[0])
    assert set(signs) == {1, -1}


def test_random_erasing_box_covers_a_scale_fraction_and_gets_the_fill():
    images = torch.full((200, 20, 20, 1), 100.0)
    layer = layers.RandomErasing(factor=(1.0, 1.0), scale=(0.1, 0.3), fill_value=0, seed=1)
    erased = (layer(images, training=True) == 0).float().mean(dim=(1, 2, 3))
    # Box sides sqrt(s) * 20 for s in [0.1, 0.3] each (pixels of a fractional box: +-1 row/col).
    assert float(erased.min()) >= (np.sqrt(0.1) * 20 - 1) ** 2 / 400
    assert float(erased.max()) <= (np.sqrt(0.3) * 20 + 1) ** 2 / 400


def test_random_erasing_noise_fill_is_clipped_to_value_range():
    images = torch.full((4, 8, 8, 3), 0.5)
    layer = layers.RandomErasing(factor=(1.0, 1.0), scale=(1.0, 1.0), value_range=(0, 1), seed=2)
    out = layer(images, training=True)
    assert float(out.min()) >= 0 and float(out.max()) <= 1
    assert float((out == 0).float().mean()) == pytest.approx(0.5, abs=0.1)  # N(0,1) < 0


def test_random_erasing_per_channel_fill_value_fills_each_channel():
    images = torch.zeros(2, 3, 4, 5)
    layer = layers.RandomErasing(
        (1.0, 1.0), scale=(1.0, 1.0), fill_value=[1, 2, 3], data_format="channels_first"
    )
    out = layer(images, training=True)
    torch.testing.assert_close(
        out, torch.tensor([1.0, 2.0, 3.0]).reshape(1, 3, 1, 1).expand_as(out)
    )


def test_random_erasing_per_channel_fill_value_needs_three_channels():
    layer = layers.RandomErasing((1.0, 1.0), fill_value=[1, 2, 3])
    with pytest.raises(ValueError, match="RandomErasing: a `fill_value` of three numbers"):
        layer(torch.zeros(2, 4, 4, 1), training=True)


def test_random_gaussian_blur_sigma_range_blurs_a_delta_into_a_normalised_kernel():
    delta = torch.zeros(1, 5, 5, 1)
    delta[0, 2, 2, 0] = 100.0
    out = layers.RandomGaussianBlur((1.0, 1.0), kernel_size=3, seed=3)(delta, training=True)
    assert float(out.sum()) == pytest.approx(100.0, rel=1e-5)
    assert float(out[0, 2, 2, 0]) == float(out.max())


def test_homographies_send_end_corners_to_start_corners():
    from tritonlayers.layers.image_augmentation_spatial import homographies

    start = torch.tensor([[[0.0, 0.0], [8.0, 0.0], [0.0, 6.0], [8.0, 6.0]]], dtype=torch.float64)
    end = start + torch.tensor([[[0.5, -0.3], [-1.0, 0.2], [0.7, 0.4], [-0.2, -0.9]]])
    a = homographies(start, end)[0]
    x, y = end[0, :, 0], end[0, :, 1]
    denominator = a[6] * x + a[7] * y + 1
    mapped = torch.stack([(a[0] * x + a[1] * y + a[2]), (a[3] * x + a[4] * y + a[5])], -1)
    torch.testing.assert_close(mapped / denominator[:, None], start[0], rtol=0, atol=1e-12)


def test_random_perspective_moves_corners_but_keeps_the_top_left():
    images = _images((6, 8, 8, 1))
    out = layers.RandomPerspective(factor=(1.0, 1.0), scale=0.5, seed=4)(images, training=True)
    torch.testing.assert_close(out[:, 0, 0], images[:, 0, 0])
    assert not torch.allclose(out, images)


def test_random_perspective_factor_zero_never_applies():
    images = _images((6, 8, 8, 1))
    out = layers.RandomPerspective(factor=0.0, seed=4)(images, training=True)
    torch.testing.assert_close(out, images)


def test_random_elastic_transform_displaces_smoothly_within_value_range():
    ramp = torch.arange(32.0).repeat(32, 1).reshape(1, 32, 32, 1) * 8
    layer = layers.RandomElasticTransform(factor=(1.0, 1.0), scale=(1.0, 1.0), seed=5)
    out = layer(ramp, training=True)
    assert float(out.min()) >= 0 and float(out.max()) <= 255
    shift = (out - ramp)[0, 4:-4, 4:-4, 0] / 8  # horizontal displacement, in pixels
    assert 0.1 < float(shift.abs().mean()) < 3.2  # alpha = 3.2 times a blurred N(0, sigma)


# ------------------------------------------------------------------------- mixing


def test_mix_up_blends_each_image_with_one_partner_with_beta_weights():
    images = torch.arange(64.0).reshape(64, 1, 1, 1).expand(64, 2, 2, 1).contiguous()
    out = layers.MixUp(alpha=0.2, seed=0)(images, training=True)
    assert torch.equal(out, out[:, :1, :1].expand_as(out))  # one weight per image
    values = out[:, 0, 0, 0]
    assert float(values.min()) >= 0 and float(values.max()) <= 63
    # Mean over images of a Beta(a, a) mix of a permutation keeps the batch mean.
    assert float(values.mean()) == pytest.approx(31.5, abs=4)


def test_mix_up_weights_follow_beta_alpha_alpha():
    images = torch.cat([torch.zeros(1, 1, 1, 1), torch.ones(1, 1, 1, 1)])
    layer = layers.MixUp(alpha=2.0, seed=1)
    draws = torch.stack([layer(images, training=True).flatten() for _ in range(300)])
    mixed = draws[(draws[:, 0] != 0)][:, 0]  # swapped pairs: image 0 gets 1 - w
    assert float(mixed.mean()) == pytest.approx(0.5, abs=0.05)
    assert float(mixed.var()) == pytest.approx(1 / 20, abs=0.02)  # Beta(2, 2) variance


def test_cut_mix_pastes_a_box_from_a_partner_image():
    images = torch.arange(8.0).reshape(8, 1, 1, 1).expand(8, 10, 10, 1).contiguous()
    out = layers.CutMix(seed=2)(images, training=True)
    for index in range(8):
        values = set(out[index].flatten().tolist())
        assert len(values) <= 2 and (len(values) == 1 or float(index) in values)
        foreign = out[index] != index
        if foreign.any():
            rows, cols = foreign[..., 0].nonzero().unbind(1)
            box = foreign[rows.min() : rows.max() + 1, cols.min() : cols.max() + 1]
            assert bool(box.all())  # one rectangle


def test_cut_mix_passes_one_image_through():
    image = _images((6, 8, 3))
    torch.testing.assert_close(layers.CutMix(seed=0)(image, training=True), image)


# ------------------------------------------------------------------------ policies


def test_rand_augment_zero_ops_is_identity_and_output_stays_in_range():
    images = _images((4, 8, 8, 3))
    torch.testing.assert_close(layers.RandAugment(num_ops=0)(images, training=True), images)
    out = layers.RandAugment(num_ops=3, factor=0.8, seed=0)(images, training=True)
    assert float(out.min()) >= -1e-3 and float(out.max()) <= 255 + 1e-3


def test_aug_mix_output_stays_in_value_range_and_differs_from_input():
    images = _images((4, 8, 8, 3)) / 255
    layer = layers.AugMix(value_range=(0, 1), all_ops=False, seed=1)
    outs = [layer(images, training=True) for _ in range(3)]
    assert all(float(o.min()) >= 0 and float(o.max()) <= 1 for o in outs)
    assert any(not torch.allclose(o, images) for o in outs)


def test_max_num_bounding_boxes_passes_images_through_and_keeps_its_config():
    images = _images((2, 4, 4, 3))
    layer = layers.MaxNumBoundingBoxes(7, fill_value=-2)
    torch.testing.assert_close(layer(images, training=True), images)
    assert layer.get_config()["max_number"] == 7 and layer.get_config()["fill_value"] == -2


# ---------------------------------------------------------------- inside a model


def test_augmentation_runs_in_fit_and_not_in_predict():
    x, y = np.zeros((4, 3, 3, 1), "float32"), np.zeros((4, 1), "float32")
    model = keras.Sequential(
        [
            keras.Input((3, 3, 1)),
            layers.RandomInvert((1.0, 1.0), value_range=(0, 10)),
            layers.Flatten(),
            layers.Dense(1, use_bias=False, kernel_initializer="ones"),
        ]
    )
    model.compile(optimizer=keras.optimizers.SGD(0.0), loss="mse")
    history = model.fit(x, y, batch_size=4, epochs=1, verbose=0)
    assert history.history["loss"][0] == pytest.approx((9 * 10.0) ** 2)  # every pixel -> 10
    np.testing.assert_array_equal(model.predict(x, verbose=0), np.zeros((4, 1)))


def test_model_of_all_augmentation_layers_fits_predicts_and_reloads(tmp_path):
    model = keras.Sequential(
        [keras.Input((8, 9, 3))]
        + [LAYER_FACTORIES[name](None) for name in LAYER_FACTORIES]
        + [layers.Flatten(), layers.Dense(1)]
    )
    x = _images((6, 8, 9, 3)).numpy()
    model.compile(optimizer="adam", loss="mse")
    model.fit(x, np.ones((6, 1), "float32"), batch_size=3, epochs=1, verbose=0)
    prediction = model.predict(x, verbose=0)
    model.save(tmp_path / "m.keras")
    restored = keras.saving.load_model(tmp_path / "m.keras")
    np.testing.assert_array_equal(restored.predict(x, verbose=0), prediction)
