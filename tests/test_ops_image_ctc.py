"""keras.ops.image, ops.ctc_loss / ctc_decode, losses.CTC / ctc and ops.rearrange.

References are float64 numpy / brute-force computations written here, or numbers checked
against Keras 3.15 (torch backend) on the same inputs, as each test says.
"""

import colorsys
import itertools
import math

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import ops
from tritonlayers.layers import image_sampling

image_ops = ops.image
RNG = np.random.default_rng(0)
IMAGES = RNG.random((2, 7, 9, 3)).astype("float32")  # channels_last batch
# Transform rows with no half-way points, so "nearest" has one right answer.
TRANSFORMS = np.array(
    [[0.9, 0.3, -1.45, -0.2, 1.1, 0.73, 0, 0], [1.2, -0.4, 2.07, 0.5, 0.8, -3.13, 0, 0]],
    "float32",
)


def _nchw(x):
    return np.ascontiguousarray(np.transpose(x, (0, 3, 1, 2)))


# --------------------------------------------------------------------------------------
# float64 references
# --------------------------------------------------------------------------------------


def _fix(index: int, size: int, mode: str) -> tuple:
    """(index read, inside) for an integer neighbour index under Keras's fill modes."""
    inside = 0 <= index < size
    if mode == "wrap":
        return index % size, inside
    if mode == "reflect":
        period = index % (2 * size)
        return (period if period < size else 2 * size - 1 - period), inside
    if mode == "mirror":
        if size == 1:
            return 0, inside
        period = index % (2 * size - 2)
        return (period if period < size else 2 * size - 2 - period), inside
    return min(max(index, 0), size - 1), inside


def _sample_reference(image, points, order, mode, fill):
    """float64 map_coordinates of a 2-D array at a list of (row, col) points."""
    out = []
    for r, c in points:
        if order == 0:
            neighbours = [([(round(r), 1.0)], [(round(c), 1.0)])]
        else:
            r0, c0 = math.floor(r), math.floor(c)
            neighbours = [
                ([(r0, 1 - (r - r0)), (r0 + 1, r - r0)], [(c0, 1 - (c - c0)), (c0 + 1, c - c0)])
            ]
        total = 0.0
        for rows, cols in neighbours:
            for (ri, wr), (ci, wc) in itertools.product(rows, cols):
                (rr, r_in), (cc, c_in) = (
                    _fix(ri, image.shape[0], mode),
                    _fix(ci, image.shape[1], mode),
                )
                value = image[rr, cc] if (mode != "constant" or (r_in and c_in)) else fill
                total += wr * wc * value
        out.append(total)
    return np.array(out)


def _affine_reference(image, row, order, mode, fill):
    """float64 Keras affine transform of one (H, W, C) image by one transform row."""
    height, width, channels = image.shape
    a0, a1, a2, b0, b1, b2 = np.float64(row[:6])
    points = [
        (b0 * x + b1 * y + b2, a0 * x + a1 * y + a2) for y in range(height) for x in range(width)
    ]
    out = [_sample_reference(image[..., c], points, order, mode, fill) for c in range(channels)]
    return np.stack(out, -1).reshape(height, width, channels)


def _conv_same(image, kernel):
    """float64 2-D correlation with zero padding, output the input's size (odd kernel)."""
    kh, kw = kernel.shape
    padded = np.pad(image, ((kh // 2, kh // 2), (kw // 2, kw // 2)))
    out = np.zeros(image.shape)
    for i, j in itertools.product(range(kh), range(kw)):
        out += kernel[i, j] * padded[i : i + image.shape[0], j : j + image.shape[1]]
    return out


def _gaussian(size, sigma):
    x = np.arange(size) - (size - 1) / 2
    g = np.exp(-0.5 * (x / sigma) ** 2)
    return g / g.sum()


# --------------------------------------------------------------------------------------
# Colour spaces
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_rgb_to_grayscale_is_the_luma_weighted_sum(data_format):
    x = IMAGES if data_format == "channels_last" else _nchw(IMAGES)
    out = image_ops.rgb_to_grayscale(x, data_format=data_format).numpy()
    axis = -1 if data_format == "channels_last" else 1
    r, g, b = np.moveaxis(x.astype("float64"), axis, 0)
    expected = np.expand_dims(0.2989 * r + 0.587 * g + 0.114 * b, axis)
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_rgb_to_hsv_matches_colorsys():
    out = image_ops.rgb_to_hsv(IMAGES).numpy().reshape(-1, 3)
    expected = np.array([colorsys.rgb_to_hsv(*p) for p in IMAGES.astype("float64").reshape(-1, 3)])
    np.testing.assert_allclose(out, expected, atol=1e-6)


def test_hsv_to_rgb_matches_colorsys_channels_first():
    out = image_ops.hsv_to_rgb(_nchw(IMAGES), data_format="channels_first").numpy()
    pixels = IMAGES.astype("float64").reshape(-1, 3)
    expected = np.array([colorsys.hsv_to_rgb(*p) for p in pixels]).reshape(IMAGES.shape)
    np.testing.assert_allclose(out, _nchw(expected), atol=1e-6)


def test_rgb_to_hsv_rejects_integer_images():
    with pytest.raises(ValueError, match="expected float dtype"):
        image_ops.rgb_to_hsv(np.zeros((2, 2, 3), "int32"))


def test_rgb_to_grayscale_rejects_two_channels():
    with pytest.raises(ValueError, match="expected 3 \\(RGB\\) or 1"):
        image_ops.rgb_to_grayscale(np.zeros((2, 4, 4, 2), "float32"))


# --------------------------------------------------------------------------------------
# Resize, pad, crop
# --------------------------------------------------------------------------------------

RAMP = (np.arange(30, dtype="float32").reshape(1, 3, 5, 2) ** 1.5) / 10


@pytest.mark.parametrize(
    "kwargs, expected",
    [  # checked against Keras 3.15 (torch backend)
        (
            {"size": (2, 3)},
            [
                [[0.944167, 1.178553], [1.90958, 2.290894], [3.30492, 3.777431]],
                [[7.925321, 8.567957], [10.127744, 10.827369], [12.528591, 13.280316]],
            ],
        ),
        (
            {"size": (2, 3), "antialias": True},
            [
                [[1.421469, 1.709975], [2.492246, 2.902616], [3.866808, 4.36155]],
                [[7.304086, 7.926585], [9.328039, 10.005852], [11.507624, 12.236609]],
            ],
        ),
        (
            {"size": (2, 2), "crop_to_aspect_ratio": True},
            [
                [[1.415917, 1.74386], [2.504098, 2.928728]],
                [[9.115748, 9.790302], [11.189252, 11.912739]],
            ],
        ),
        (
            {"size": (4, 2), "interpolation": "bicubic"},
            [
                [[-0.098007, 0.076329], [1.355176, 1.740952]],
                [[1.837667, 2.218443], [4.20584, 4.730421]],
                [[6.394765, 7.012383], [9.871364, 10.574729]],
                [[10.289148, 11.003326], [14.268806, 15.062091]],
            ],
        ),
    ],
)
def test_resize_matches_keras(kwargs, expected):
    np.testing.assert_allclose(image_ops.resize(RAMP, **kwargs).numpy()[0], expected, atol=1e-5)


def test_resize_pad_to_aspect_ratio_fills_and_resizes_like_keras():
    out = image_ops.resize(RAMP, (4, 4), pad_to_aspect_ratio=True, fill_value=-1.0).numpy()
    # checked against Keras 3.15 (torch backend): the first and last rows mix in the fill
    np.testing.assert_allclose(
        out[0, :, 0, 0], [-0.870581, 1.254575, 6.930042, 0.264513], atol=1e-5
    )


def test_resize_channels_first_equals_channels_last():
    last = image_ops.resize(IMAGES, (4, 5)).numpy()
    first = image_ops.resize(_nchw(IMAGES), (4, 5), data_format="channels_first").numpy()
    np.testing.assert_allclose(first, _nchw(last), atol=1e-6)


def test_resize_uint8_bicubic_rounds_and_saturates_like_keras():
    image = np.array([[[10], [200], [255]], [[0], [100], [30]]], "uint8")
    out = image_ops.resize(image, (3, 4), interpolation="bicubic")
    assert out.dtype == torch.uint8
    # checked against Keras 3.15 (torch backend)
    assert out[..., 0].tolist() == [[0, 130, 254, 255], [0, 99, 163, 142], [0, 67, 72, 5]]


def test_resize_rejects_lanczos_and_two_aspect_modes():
    with pytest.raises(ValueError, match="Lanczos interpolation is not supported"):
        image_ops.resize(IMAGES, (2, 2), interpolation="lanczos3")
    with pytest.raises(ValueError, match="Only one of `pad_to_aspect_ratio`"):
        image_ops.resize(IMAGES, (2, 2), crop_to_aspect_ratio=True, pad_to_aspect_ratio=True)


def test_image_layers_share_the_ops_resize():
    assert image_sampling.resize is image_ops.resize_nchw
    assert image_sampling.aspect_crop_box is image_ops.aspect_crop_box


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_pad_images_matches_numpy_pad(data_format):
    x = IMAGES if data_format == "channels_last" else _nchw(IMAGES)
    out = image_ops.pad_images(
        x, 1, 2, target_height=10, right_padding=1, data_format=data_format
    ).numpy()
    spatial = ((1, 2), (2, 1))
    pads = (
        ((0, 0), *spatial, (0, 0)) if data_format == "channels_last" else ((0, 0), (0, 0), *spatial)
    )
    np.testing.assert_array_equal(out, np.pad(x, pads))


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
def test_crop_images_matches_numpy_slicing(data_format):
    x = IMAGES if data_format == "channels_last" else _nchw(IMAGES)
    out = image_ops.crop_images(
        x[0], 1, 2, bottom_cropping=2, target_width=4, data_format=data_format
    ).numpy()
    expected = x[0, 1:5, 2:6] if data_format == "channels_last" else x[0, :, 1:5, 2:6]
    np.testing.assert_array_equal(out, expected)


def test_pad_images_needs_exactly_two_vertical_arguments():
    with pytest.raises(ValueError, match="Must specify exactly two of top_padding"):
        image_ops.pad_images(IMAGES, top_padding=1, left_padding=0, right_padding=0)


def test_crop_images_rejects_a_crop_larger_than_the_image():
    with pytest.raises(ValueError, match="bottom_cropping must be >= 0"):
        image_ops.crop_images(IMAGES, 5, 0, target_height=5, right_cropping=0)


# --------------------------------------------------------------------------------------
# Warps and map_coordinates
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_affine_transform_matches_float64_reference(fill_mode, interpolation):
    out = image_ops.affine_transform(
        IMAGES, TRANSFORMS, interpolation=interpolation, fill_mode=fill_mode, fill_value=0.5
    ).numpy()
    order = 1 if interpolation == "bilinear" else 0
    for b in range(2):
        expected = _affine_reference(
            IMAGES[b].astype("float64"), TRANSFORMS[b], order, fill_mode, 0.5
        )
        np.testing.assert_allclose(out[b], expected, atol=1e-5)


def test_affine_transform_channels_first_single_image():
    out = image_ops.affine_transform(
        _nchw(IMAGES)[0], TRANSFORMS[0], fill_mode="reflect", data_format="channels_first"
    ).numpy()
    expected = _affine_reference(IMAGES[0].astype("float64"), TRANSFORMS[0], 1, "reflect", 0.0)
    np.testing.assert_allclose(out, np.transpose(expected, (2, 0, 1)), atol=1e-5)


def test_affine_transform_rejects_unknown_fill_mode():
    with pytest.raises(ValueError, match="Invalid value for argument `fill_mode`"):
        image_ops.affine_transform(IMAGES, TRANSFORMS, fill_mode="bad")


@pytest.mark.parametrize("fill_mode", ["constant", "nearest", "wrap", "mirror", "reflect"])
@pytest.mark.parametrize("order", [0, 1])
def test_map_coordinates_matches_float64_reference(fill_mode, order):
    image = RNG.random((5, 6))
    coords = RNG.uniform(-3.3, 8.7, (2, 12))
    out = image_ops.map_coordinates(
        torch.from_numpy(image),
        torch.from_numpy(coords),
        order,
        fill_mode=fill_mode,
        fill_value=-1.0,
    )
    expected = _sample_reference(image, list(zip(*coords)), order, fill_mode, -1.0)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-12)


def test_map_coordinates_integer_input_rounds():
    out = image_ops.map_coordinates(np.array([0, 10, 20], "int32"), [[0.26, 1.5]], 1)
    assert out.dtype == torch.int32 and out.tolist() == [3, 15]


def test_map_coordinates_rejects_order_above_one():
    with pytest.raises(ValueError, match="`order` must be 0 or 1"):
        image_ops.map_coordinates(np.zeros((3, 3)), np.zeros((2, 2)), order=3)


def test_perspective_transform_matches_keras():
    square = np.arange(16, dtype="float32").reshape(4, 4, 1)
    start = [[0, 0], [3, 0], [0, 3], [3, 3]]
    end = [[0.5, 0], [3, 0.25], [0, 3], [2.5, 3]]
    out = image_ops.perspective_transform(square, start, end).numpy()[..., 0]
    expected = [  # checked against Keras 3.15 (torch backend)
        [0.088911, 0.522844, 1.445668, 2.169076],
        [2.588646, 4.516103, 5.410398, 5.095539],
        [6.526337, 8.776773, 9.829639, 6.132937],
        [11.999997, 13.138983, 14.357895, 5.018183],
    ]
    np.testing.assert_allclose(out, expected, atol=2e-5)


def test_perspective_transform_rejects_three_corners():
    with pytest.raises(ValueError, match="Invalid start_points shape"):
        image_ops.perspective_transform(IMAGES, np.zeros((3, 2)), np.zeros((4, 2)))


def test_elastic_transform_is_seeded_and_keeps_a_constant_image():
    first = image_ops.elastic_transform(IMAGES, seed=3)
    assert torch.equal(first, image_ops.elastic_transform(IMAGES, seed=3))
    assert not torch.equal(first, image_ops.elastic_transform(IMAGES, seed=4))
    flat = image_ops.elastic_transform(np.full((1, 8, 8, 2), 0.25, "float32"), seed=1)
    np.testing.assert_allclose(flat.numpy(), 0.25, atol=1e-6)


def test_elastic_transform_displacement_has_the_blurred_noise_spread():
    # On the ramp f = column, bilinear reading inside the image returns the x displacement:
    # alpha * sigma * (gaussian * noise), of std alpha * sigma * ||gaussian||_2 away from edges.
    alpha, sigma, size = 2.0, 1.0, 64
    ramp = np.tile(np.arange(size, dtype="float64"), (16, size, 1))[..., None]
    out = image_ops.elastic_transform(ramp, alpha, sigma, fill_mode="nearest", seed=0).numpy()
    shift = (out - ramp)[:, 8:-8, 8:-8, 0]
    kernel = np.outer(_gaussian(7, sigma), _gaussian(7, sigma))
    expected_std = alpha * sigma * np.sqrt((kernel**2).sum())
    assert abs(shift.mean()) < 0.05
    assert abs(shift.std() / expected_std - 1) < 0.1


# --------------------------------------------------------------------------------------
# Filters, SSIM, patches, scale_and_translate
# --------------------------------------------------------------------------------------


def test_gaussian_blur_matches_float64_reference():
    # Index 0 of kernel_size / sigma is the x (width) direction, as Keras computes it.
    out = image_ops.gaussian_blur(IMAGES, (5, 3), (0.7, 1.3)).numpy()
    kernel = np.outer(_gaussian(3, 1.3), _gaussian(5, 0.7))
    for b, c in itertools.product(range(2), range(3)):
        expected = _conv_same(IMAGES[b, :, :, c].astype("float64"), kernel)
        np.testing.assert_allclose(out[b, :, :, c], expected, atol=1e-6)


def test_sobel_edges_matches_float64_reference():
    out = image_ops.sobel_edges(_nchw(IMAGES), data_format="channels_first").numpy()
    d_dy = np.outer([-1, 0, 1], [1, 2, 1])
    for b, c in itertools.product(range(2), range(3)):
        image = IMAGES[b, :, :, c].astype("float64")
        np.testing.assert_allclose(out[b, c, ..., 0], _conv_same(image, d_dy), atol=1e-5)
        np.testing.assert_allclose(out[b, c, ..., 1], _conv_same(image, d_dy.T), atol=1e-5)


def test_ssim_matches_keras_and_is_one_for_equal_images():
    g = np.linspace(0, 1, 36, dtype="float32").reshape(1, 6, 6, 1)
    h = np.ascontiguousarray((g**2)[:, ::-1])
    out = image_ops.ssim(g, h, filter_size=3, filter_sigma=1.0)
    np.testing.assert_allclose(out.numpy(), [-0.523404], atol=1e-5)  # Keras 3.15 (torch)
    same = image_ops.ssim(IMAGES[0], IMAGES[0], filter_size=5).numpy()
    np.testing.assert_allclose(same, 1.0, atol=1e-6)


def test_ssim_rejects_images_smaller_than_the_filter():
    with pytest.raises(ValueError, match="must be at least filter_size=11"):
        image_ops.ssim(IMAGES, IMAGES)


@pytest.mark.parametrize(
    "kwargs",
    [
        {"size": 3},
        {"size": (2, 3), "strides": (1, 2)},
        {"size": 2, "dilation_rate": 2, "strides": 1},
    ],
)
def test_extract_patches_matches_numpy_slicing(kwargs):
    out = image_ops.extract_patches(IMAGES, **kwargs).numpy()
    size = kwargs["size"]
    ph, pw = (size, size) if isinstance(size, int) else size
    sh, sw = (lambda s: (s, s) if isinstance(s, int) else s)(kwargs.get("strides") or (ph, pw))
    d = kwargs.get("dilation_rate", 1)
    rows = range(0, IMAGES.shape[1] - d * (ph - 1), sh)
    cols = range(0, IMAGES.shape[2] - d * (pw - 1), sw)
    expected = np.array(
        [
            [IMAGES[:, r : r + d * ph : d, c : c + d * pw : d].reshape(2, -1) for c in cols]
            for r in rows
        ]
    ).transpose(2, 0, 1, 3)
    np.testing.assert_array_equal(out, expected)


def test_extract_patches_3d_matches_numpy_slicing():
    volumes = RNG.random((2, 4, 6, 4, 2)).astype("float32")
    out = image_ops.extract_patches_3d(volumes, 2).numpy()
    assert out.shape == (2, 2, 3, 2, 16)
    np.testing.assert_array_equal(out[1, 1, 2, 0], volumes[1, 2:4, 4:6, 0:2].reshape(-1))


def test_extract_patches_rejects_a_four_tuple_size():
    with pytest.raises(ValueError, match="Expected a tuple of length 2 or 3"):
        image_ops.extract_patches(IMAGES, (1, 2, 3, 4))


@pytest.mark.parametrize(
    "method, antialias, expected",
    [  # checked against Keras 3.15 (torch backend)
        (
            "cubic",
            True,
            [
                [0.153649, 1.942381, 0.0],
                [1.135122, 2.923854, 0.0],
                [3.663321, 5.452054, 0.0],
                [6.414558, 8.203292, 0.0],
                [8.54425, 10.332982, 0.0],
            ],
        ),
        (
            "lanczos3",
            False,
            [
                [0.023513, 1.886457, 0.0],
                [0.960074, 2.823018, 0.0],
                [3.254854, 5.117798, 0.0],
                [6.82158, 8.684524, 0.0],
                [8.519041, 10.381986, 0.0],
            ],
        ),
    ],
)
def test_scale_and_translate_matches_keras(method, antialias, expected):
    x = np.arange(12, dtype="float32").reshape(3, 4)
    scale, shift = np.array([1.7, 0.6], "float32"), np.array([0.3, -0.2], "float32")
    out = image_ops.scale_and_translate(x, (5, 3), scale, shift, (0, 1), method, antialias)
    np.testing.assert_allclose(out.numpy(), expected, atol=1e-5)


def test_image_op_in_a_functional_model_saves_and_loads(tmp_path):
    inputs = keras.Input((8, 8, 3))
    outputs = ops.rearrange(image_ops.resize(inputs, (4, 4)), "b h w c -> b (h w) c")
    assert outputs.shape == (None, 16, 3)
    model = keras.Model(inputs, outputs)
    x = torch.rand(2, 8, 8, 3)
    model.save(tmp_path / "m.keras")
    loaded = keras.saving.load_model(tmp_path / "m.keras")
    expected = image_ops.resize(x, (4, 4)).reshape(2, 16, 3)
    torch.testing.assert_close(loaded(x), expected)


# --------------------------------------------------------------------------------------
# CTC
# --------------------------------------------------------------------------------------

CTC_LOGITS = np.random.default_rng(1).normal(size=(3, 7, 5)).astype("float32") * 2
CTC_LENGTHS = np.array([7, 5, 7], "int32")


def _log_softmax64(logits):
    x = logits.astype("float64")
    return (
        x
        - np.log(np.exp(x - x.max(-1, keepdims=True)).sum(-1, keepdims=True))
        - x.max(-1, keepdims=True)
    )


def _collapse(alignment, blank):
    labels = [k for k, _ in itertools.groupby(alignment)]
    return tuple(k for k in labels if k != blank)


def _label_log_probs(log_probs, blank):
    """float64 log p(labels) of every label sequence, summed over all alignments."""
    totals = {}
    for alignment in itertools.product(range(log_probs.shape[1]), repeat=log_probs.shape[0]):
        score = sum(log_probs[t, k] for t, k in enumerate(alignment))
        key = _collapse(alignment, blank)
        totals[key] = np.logaddexp(totals.get(key, -np.inf), score)
    return totals


def test_ctc_loss_matches_brute_force_alignment_sum():
    logits = CTC_LOGITS[:, :4, :4]
    targets = np.array([[1, 2, 0], [3, 3, 0], [2, 0, 0]], "int32")
    target_lengths = [2, 2, 1]
    output_lengths = [4, 4, 3]
    out = ops.ctc_loss(targets, logits, target_lengths, output_lengths).numpy()
    for b in range(3):
        table = _label_log_probs(_log_softmax64(logits[b, : output_lengths[b]]), 0)
        expected = -table[tuple(targets[b, : target_lengths[b]])]
        np.testing.assert_allclose(out[b], expected, rtol=1e-5)


def test_ctc_loss_mask_index_is_the_blank():
    logits = CTC_LOGITS[:1, :3, :3]
    out = ops.ctc_loss([[0, 1]], logits, [2], [3], mask_index=2).numpy()
    table = _label_log_probs(_log_softmax64(logits[0]), 2)
    np.testing.assert_allclose(out[0], -table[(0, 1)], rtol=1e-5)


def test_ctc_decode_greedy_drops_blanks_and_merges_repeats():
    # best classes per step: 1 1 0 1 2 2 | the third item is cut at length 2
    steps = [1, 1, 0, 1, 2, 2]
    logits = np.full((2, 6, 3), -1.0, "float32")
    for t, k in enumerate(steps):
        logits[:, t, k] = 2.0 + t
    decoded, scores = ops.ctc_decode(logits, [6, 2])
    assert decoded.dtype == torch.int32
    assert decoded.tolist() == [[[1, 1, 2, -1, -1, -1], [1, -1, -1, -1, -1, -1]]]
    np.testing.assert_allclose(scores.numpy(), [[-27.0], [-5.0]])
    unmerged, _ = ops.ctc_decode(logits, [6, 2], merge_repeated=False)
    assert unmerged[0, 0].tolist() == [1, 1, 1, 2, 2, -1]


def test_ctc_decode_beam_search_finds_the_most_probable_labelings():
    logits = CTC_LOGITS[:2, :4, :4]
    decoded, scores = ops.ctc_decode(logits, [4, 4], strategy="beam_search", top_paths=3)
    for b in range(2):
        table = _label_log_probs(_log_softmax64(logits[b]), 0)
        best = sorted(table.items(), key=lambda item: -item[1])[:3]
        for k, (labels, log_p) in enumerate(best):
            assert tuple(v for v in decoded[k, b].tolist() if v != -1) == labels
            np.testing.assert_allclose(scores[b, k].item(), log_p, rtol=1e-5)


def test_ctc_decode_narrow_beam_matches_keras():
    decoded, scores = ops.ctc_decode(
        CTC_LOGITS, CTC_LENGTHS, strategy="beam_search", beam_width=2, top_paths=3
    )
    # checked against Keras 3.15 (torch backend): a narrow beam prunes the same way
    assert decoded[:, 2].tolist() == [
        [4, 4, -1, -1, -1, -1, -1],
        [4, -1, -1, -1, -1, -1, -1],
        [-1] * 7,
    ]
    np.testing.assert_allclose(
        scores.numpy(),
        [
            [-4.1871986, -4.7493343, -np.inf],
            [-2.9375272, -2.940973, -np.inf],
            [-3.518035, -3.7645695, -np.inf],
        ],
        atol=1e-4,
    )


def test_ctc_ops_in_a_functional_model_declare_their_shapes():
    logits, lengths = keras.Input((7, 5)), keras.Input((), dtype="int32")
    decoded, scores = ops.ctc_decode(
        logits, lengths, strategy="beam_search", beam_width=3, top_paths=2
    )
    assert (decoded.shape, scores.shape) == ((2, None, 7), (None, 2))
    labels = keras.Input((4,), dtype="int32")
    loss = ops.ctc_loss(labels, logits, ops.count_nonzero(labels, axis=1), lengths)
    assert loss.shape == (None,)
    model = keras.Model([logits, lengths, labels], [decoded, loss])
    targets = np.array([[1, 2, 2, 0], [3, 1, 0, 0], [4, 4, 1, 3]], "int32")
    out_decoded, out_loss = model([CTC_LOGITS, CTC_LENGTHS, targets])
    expected = ops.ctc_decode(CTC_LOGITS, CTC_LENGTHS, "beam_search", beam_width=3, top_paths=2)
    assert torch.equal(out_decoded, expected[0])
    torch.testing.assert_close(out_loss, ops.ctc_loss(targets, CTC_LOGITS, [3, 2, 4], CTC_LENGTHS))


def test_ctc_decode_rejects_unknown_strategy():
    with pytest.raises(ValueError, match="Invalid strategy bad"):
        ops.ctc_decode(CTC_LOGITS, CTC_LENGTHS, strategy="bad")


def test_losses_ctc_uses_nonzero_labels_and_all_steps():
    y_true = np.array([[1, 2, 0], [3, 3, 1]], "int32")
    y_pred = CTC_LOGITS[:2]
    # checked against Keras 3.15 (torch backend)
    np.testing.assert_allclose(
        keras.losses.ctc(y_true, y_pred).numpy(), [6.5876756, 9.760289], rtol=1e-5
    )
    np.testing.assert_allclose(float(keras.losses.CTC()(y_true, y_pred)), 8.17398262, rtol=1e-5)


def test_ctc_loss_class_config_round_trip_and_lookup():
    loss = keras.losses.CTC(reduction="sum", name="my_ctc")
    assert loss.get_config() == {"name": "my_ctc", "reduction": "sum"}
    again = keras.losses.CTC.from_config(loss.get_config())
    assert (again.name, again.reduction) == ("my_ctc", "sum")
    assert keras.losses.get("ctc") is keras.losses.ctc
    assert isinstance(keras.losses.get("CTC"), keras.losses.CTC)


def test_losses_ctc_rejects_three_dimensional_labels():
    with pytest.raises(ValueError, match="Targets `y_true` are expected"):
        keras.losses.ctc(np.zeros((2, 3, 1)), CTC_LOGITS[:2])


# --------------------------------------------------------------------------------------
# rearrange
# --------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "pattern, lengths, reference",
    [
        ("b h w c -> b c h w", {}, lambda x: x.permute(0, 3, 1, 2)),
        ("b (h p) w c -> b h (p w c)", {"p": 3}, lambda x: x.reshape(2, 2, 3 * 4 * 3)),
        (
            "b (h p) w c -> (b p) h w c",
            {"h": 2},
            lambda x: x.reshape(2, 2, 3, 4, 3).permute(0, 2, 1, 3, 4).reshape(6, 2, 4, 3),
        ),
        ("b h w c -> c (w h) b", {}, lambda x: x.permute(3, 2, 1, 0).reshape(3, 24, 2)),
    ],
)
def test_rearrange_matches_permute_and_reshape(pattern, lengths, reference):
    x = torch.rand(2, 6, 4, 3)
    torch.testing.assert_close(ops.rearrange(x, pattern, **lengths), reference(x))


def test_rearrange_rejects_a_dropped_axis():
    with pytest.raises(ValueError, match="input axes .* and output axes"):
        ops.rearrange(torch.zeros(2, 3), "a b -> a")


def test_rearrange_rejects_a_split_that_does_not_divide():
    with pytest.raises(ValueError, match="cannot be split"):
        ops.rearrange(torch.zeros(2, 4), "a (b p) -> a b p", p=3)
