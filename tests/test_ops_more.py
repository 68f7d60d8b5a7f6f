"""The rest of keras.ops' numpy names, NaN-aware reductions, shrink activations,
normalizations and transposed convolution, against numpy and float64 formulas."""

import itertools

import numpy as np
import pytest
import torch

from tritonlayers import ops

RNG = np.random.default_rng(4)
X = RNG.normal(size=(3, 4, 5)).astype(np.float32)
Y = RNG.normal(size=(3, 4, 5)).astype(np.float32)
WITH_NAN = X.copy()
WITH_NAN[0, 0, :] = np.nan
WITH_NAN[1, 2, 3] = np.nan
INTS = np.array([12, 18, 7, 9], np.int32)
SMALL_INTS = np.array([8, 27, 3, 1], np.int32)


def assert_matches(result, expected, atol=1e-5):
    expected = np.asarray(expected)
    assert tuple(result.shape) == expected.shape
    np.testing.assert_allclose(
        ops.convert_to_numpy(result), expected, atol=atol, rtol=1e-5, equal_nan=True
    )


ELEMENTWISE = {
    "deg2rad": (np.deg2rad, (X,)),
    "rad2deg": (np.rad2deg, (X,)),
    "sinc": (np.sinc, (X,)),
    "fabs": (np.fabs, (X,)),
    "signbit": (np.signbit, (X,)),
    "cbrt": (np.cbrt, (X,)),
    "fmax": (np.fmax, (X, Y)),
    "fmin": (np.fmin, (X, Y)),
    "fmod": (np.fmod, (X, Y)),
    "hypot": (np.hypot, (X, Y)),
    "logaddexp2": (np.logaddexp2, (X, Y)),
    "heaviside": (np.heaviside, (np.round(X), Y)),
    "kron": (np.kron, (X[0], Y[0])),
    "inner": (np.inner, (X[0], Y[0])),
    "gcd": (np.gcd, (INTS, SMALL_INTS)),
    "lcm": (np.lcm, (INTS, SMALL_INTS)),
    "bitwise_and": (np.bitwise_and, (INTS, SMALL_INTS)),
    "bitwise_or": (np.bitwise_or, (INTS, SMALL_INTS)),
    "bitwise_xor": (np.bitwise_xor, (INTS, SMALL_INTS)),
    "bitwise_not": (np.invert, (INTS,)),
    "left_shift": (np.left_shift, (INTS, SMALL_INTS % 4)),
    "right_shift": (np.right_shift, (INTS, SMALL_INTS % 4)),
    "ldexp": (np.ldexp, (X[0], np.arange(5, dtype=np.int32))),
    "isin": (np.isin, (INTS, SMALL_INTS)),
    "isneginf": (np.isneginf, (np.array([-np.inf, 1.0, np.inf], np.float32),)),
    "isposinf": (np.isposinf, (np.array([-np.inf, 1.0, np.inf], np.float32),)),
}


@pytest.mark.parametrize("name", sorted(ELEMENTWISE))
def test_elementwise_op_matches_numpy(name):
    reference, args = ELEMENTWISE[name]
    assert_matches(getattr(ops, name)(*args), reference(*args), atol=1e-4)


def test_divide_no_nan_gives_zero_for_zero_divisor():
    divisor = Y.copy()
    divisor[0, 0] = 0.0
    expected = np.where(divisor == 0, 0.0, X / np.where(divisor == 0, 1.0, divisor))
    assert_matches(ops.divide_no_nan(X, divisor), expected)


def test_allclose_is_a_scalar_bool():
    assert bool(ops.allclose(X, X + 1e-9))
    assert not bool(ops.allclose(X, X + 1e-3))


NAN_REDUCTIONS = {
    "nansum": np.nansum,
    "nanprod": np.nanprod,
    "nanmean": np.nanmean,
    "nanmax": np.nanmax,
    "nanmin": np.nanmin,
    "nanvar": np.nanvar,
    "nanstd": np.nanstd,
    "nanmedian": np.nanmedian,
}


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
@pytest.mark.parametrize("axis,keepdims", [(None, False), (2, False), ((0, 1), True)], ids=str)
@pytest.mark.parametrize("name", sorted(NAN_REDUCTIONS))
def test_nan_reduction_matches_numpy(name, axis, keepdims):
    expected = NAN_REDUCTIONS[name](WITH_NAN, axis=axis, keepdims=keepdims)
    assert_matches(getattr(ops, name)(WITH_NAN, axis=axis, keepdims=keepdims), expected, 1e-4)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_percentiles_and_ptp_match_numpy():
    assert_matches(ops.percentile(X, [10, 90], axis=1), np.percentile(X, [10, 90], axis=1))
    assert_matches(ops.nanquantile(WITH_NAN, 0.3, axis=2), np.nanquantile(WITH_NAN, 0.3, axis=2))
    assert_matches(ops.nanpercentile(WITH_NAN, 50, axis=2), np.nanpercentile(WITH_NAN, 50, 2))
    assert_matches(ops.ptp(X, axis=1), np.ptp(X, axis=1))


def test_more_shape_ops_match_numpy():
    assert_matches(ops.fliplr(X), np.fliplr(X))
    assert_matches(ops.flipud(X), np.flipud(X))
    assert_matches(ops.rot90(X, k=3, axes=(1, 2)), np.rot90(X, 3, axes=(1, 2)))
    assert_matches(ops.dstack([X[0], Y[0]]), np.dstack([X[0], Y[0]]))
    assert_matches(ops.diagflat(X[0, 0], 1), np.diagflat(X[0, 0], 1))
    assert_matches(ops.diff(X, 2, axis=1), np.diff(X, 2, axis=1))
    for result, expected in zip(ops.array_split(np.arange(7), 3), np.array_split(np.arange(7), 3)):
        assert_matches(result, expected)
    for name in ("hsplit", "vsplit", "dsplit"):
        sections = [1, 2] if name != "vsplit" else [1]
        for result, expected in zip(
            getattr(ops, name)(X, sections), getattr(np, name)(X, sections)
        ):
            assert_matches(result, expected)


def test_select_trapezoid_corrcoef_match_numpy():
    conditions, choices = [X > 0, X < -1], [X, Y]
    assert_matches(ops.select(conditions, choices, 0.5), np.select(conditions, choices, 0.5))
    assert_matches(ops.trapezoid(X), np.trapezoid(X), atol=1e-5)
    grid = np.linspace(0, 1, 5)
    assert_matches(ops.trapezoid(X, grid), np.trapezoid(X, grid), atol=1e-5)
    assert_matches(ops.corrcoef(X[0]), np.corrcoef(X[0]), atol=1e-5)


def test_more_linalg_matches_numpy():
    m = RNG.normal(size=(4, 3))
    spd = m.T @ m + np.eye(3)
    assert_matches(ops.pinv(m), np.linalg.pinv(m), atol=1e-5)
    assert ops.matrix_rank(m).item() == 3
    assert ops.matrix_rank(np.ones((3, 3))).item() == 1
    assert ops.logdet(spd).item() == pytest.approx(np.log(np.linalg.det(spd)), rel=1e-5)
    lower = np.linalg.cholesky(spd)
    assert_matches(ops.cholesky_inverse(lower), np.linalg.inv(spd), atol=1e-5)


ACTIVATION_FORMULAS = {
    "hard_tanh": lambda x: np.clip(x, -1, 1),
    "hard_shrink": lambda x: np.where(np.abs(x) > 0.5, x, 0.0),
    "soft_shrink": lambda x: np.sign(x) * np.maximum(np.abs(x) - 0.5, 0.0),
    "tanh_shrink": lambda x: x - np.tanh(x),
    "sparse_plus": lambda x: np.where(x <= -1, 0.0, np.where(x >= 1, x, (x + 1) ** 2 / 4)),
    "sparse_sigmoid": lambda x: np.clip((x + 1) / 2, 0, 1),
    "squareplus": lambda x: (x + np.sqrt(x * x + 4)) / 2,
}


@pytest.mark.parametrize("name", sorted(ACTIVATION_FORMULAS))
def test_shrink_and_sparse_activations_match_formulas(name):
    x = X.astype(np.float64) * 2
    assert_matches(getattr(ops, name)(X * 2), ACTIVATION_FORMULAS[name](x))


def test_threshold_keeps_values_above_it():
    assert_matches(ops.threshold(X, 0.1, -2.0), np.where(X > 0.1, X, -2.0))


def test_layer_and_rms_normalization_match_formulas():
    gamma, beta = np.linspace(0.5, 2, 5), np.arange(5.0)
    mean, var = X.mean(-1, keepdims=True), X.var(-1, keepdims=True)
    expected = (X - mean) / np.sqrt(var + 1e-3) * gamma + beta
    assert_matches(ops.layer_normalization(X, gamma, beta, epsilon=1e-3), expected, atol=1e-5)
    rms = np.sqrt((X**2).mean(axis=(1, 2), keepdims=True) + 1e-6)
    assert_matches(ops.rms_normalization(X, 2.0, axis=(1, 2), epsilon=1e-6), X / rms * 2.0)


def test_psnr_matches_formula():
    a, b = np.abs(X), np.abs(Y)
    expected = 20 * np.log10(4.0) - 10 * np.log10(((a - b) ** 2).mean())
    assert ops.psnr(a, b, 4.0).item() == pytest.approx(expected, rel=1e-5)


# ---- transposed convolution -------------------------------------------------------------


def _reference_conv_transpose(x, kernel, strides, padding, output_padding, dilation):
    """channels_last transposed convolution in float64: scatter every input pixel times the
    kernel into the full output, then crop/pad it the way Keras (JAX/TF) does."""
    rank = x.ndim - 2
    extents = [(kernel.shape[d] - 1) * dilation[d] + 1 for d in range(rank)]
    full_sizes = [(x.shape[1 + d] - 1) * strides[d] + extents[d] for d in range(rank)]
    full = np.zeros((x.shape[0], *full_sizes, kernel.shape[-2]))
    for position in itertools.product(*(range(n) for n in x.shape[1:-1])):
        for tap in itertools.product(*(range(n) for n in kernel.shape[:rank])):
            target = tuple(p * s + t * dl for p, s, t, dl in zip(position, strides, tap, dilation))
            contribution = x[(slice(None), *position)] @ kernel[tap].T
            full[(slice(None), *target)] += contribution
    slices, pads = [], []
    for d in range(rank):
        extent, stride = extents[d], strides[d]
        if padding == "valid":
            extra = max(extent, stride) - extent if output_padding is None else output_padding
            left, right = extent - 1, extent - 1 + extra
        else:
            total = (
                stride + extent - 2
                if output_padding is None
                else (extent + extent % 2 - 2 + output_padding)
            )
            left = min(total // 2 + total % 2, extent - 1)
            right = total - left
        crop_left, crop_right = extent - 1 - left, extent - 1 - right
        slices.append(slice(crop_left, full_sizes[d] - max(crop_right, 0)))
        pads.append((0, max(-crop_right, 0)))
    cropped = full[(slice(None), *slices)]
    return np.pad(cropped, [(0, 0), *pads, (0, 0)])


@pytest.mark.parametrize(
    "rank,stride,padding,kernel,output_padding,dilation",
    [
        (1, 2, "valid", 3, None, 1),
        (1, 3, "valid", 2, None, 1),
        (1, 2, "same", 4, None, 1),
        (1, 1, "same", 3, None, 2),
        (2, 2, "same", 3, None, 1),
        (2, 2, "valid", 3, 1, 1),
        (2, 2, "same", 3, 1, 1),
    ],
)
def test_conv_transpose_matches_scatter_reference(
    rank, stride, padding, kernel, output_padding, dilation
):
    x = RNG.normal(size=(2, *[5, 4][:rank], 3))
    weights = RNG.normal(size=(*[kernel, 3][:rank], 6, 3))
    expected = _reference_conv_transpose(
        x, weights, (stride,) * rank, padding, output_padding, (dilation,) * rank
    )
    result = ops.conv_transpose(
        x.astype(np.float32),
        weights.astype(np.float32),
        stride,
        padding,
        output_padding=output_padding,
        dilation_rate=dilation,
    )
    assert_matches(result, expected, atol=1e-4)


def test_conv_transpose_is_the_gradient_of_conv():
    x = torch.randn(1, 6, 6, 3, dtype=torch.float64, requires_grad=True)
    kernel = torch.randn(3, 3, 3, 4, dtype=torch.float64)
    upstream = torch.randn(1, 3, 3, 4, dtype=torch.float64)
    (ops.conv(x, kernel, 2, "same") * upstream).sum().backward()
    transposed = ops.conv_transpose(upstream, kernel, 2, "same")
    torch.testing.assert_close(transposed, x.grad)


# ---- remaining numpy names, segments, windows, space/depth, adaptive pooling ------------------


def test_nan_aware_arg_and_cumulative_ops_match_numpy():
    finite = WITH_NAN[1:]  # numpy refuses all-NaN slices; row 0 of WITH_NAN has one
    assert_matches(ops.nanargmax(finite, axis=2), np.nanargmax(finite, axis=2))
    assert_matches(ops.nanargmin(finite, axis=1), np.nanargmin(finite, axis=1))
    assert_matches(ops.nancumsum(WITH_NAN, axis=2), np.nancumsum(WITH_NAN, axis=2))
    assert_matches(ops.nancumprod(WITH_NAN[0]), np.nancumprod(WITH_NAN[0]))


def test_argpartition_places_the_kth_element():
    order = ops.convert_to_numpy(ops.argpartition(X[0, 0], 2))
    values = X[0, 0][order]
    assert values[2] == np.sort(X[0, 0])[2]
    assert (values[:2] <= values[2]).all() and (values[3:] >= values[2]).all()


def test_geomspace_unravel_index_saturate_cast_cdist_match_numpy():
    assert_matches(ops.geomspace(1.0, 1000.0, 4), np.geomspace(1, 1000, 4), atol=1e-3)
    assert_matches(ops.geomspace(-1.0, -100.0, 3), np.geomspace(-1, -100, 3), atol=1e-4)
    for result, expected in zip(
        ops.unravel_index([5, 7], (2, 4)), np.unravel_index([5, 7], (2, 4))
    ):
        assert_matches(result, expected)
    assert ops.saturate_cast([300.0, -5.0, 20.5], "uint8").tolist() == [255, 0, 20]
    distances = np.sqrt(((X[0][:, None] - X[1][None]) ** 2).sum(-1))
    assert_matches(ops.cdist(X[0], X[1]), distances, atol=1e-5)
    assert_matches(ops.get_item(X, (1, slice(None), 2)), X[1, :, 2])


def test_real_imag_conj_angle_of_complex_and_real_inputs():
    z = np.array([1 + 2j, -3 - 1j], np.complex64)
    assert_matches(ops.real(z), z.real)
    assert_matches(ops.imag(z), z.imag)
    assert_matches(ops.conj(z), np.conj(z))
    assert_matches(ops.angle(X[0]), np.angle(X[0]))
    assert_matches(ops.imag(X[0]), np.zeros_like(X[0]))
    assert_matches(ops.i0(X[0]), np.i0(X[0]), atol=1e-4)


@pytest.mark.parametrize("name", ["bartlett", "blackman", "hamming", "hanning"])
def test_window_functions_match_numpy(name):
    assert_matches(getattr(ops, name)(7), getattr(np, name)(7), atol=1e-6)


def test_kaiser_window_matches_numpy():
    assert_matches(ops.kaiser(7, 5.0), np.kaiser(7, 5.0), atol=1e-5)


def test_segment_min_and_prod_fill_empty_segments():
    ids = np.array([0, 0, 2, -1])
    expected_min = np.stack([np.minimum(X[0, 0], X[0, 1]), np.full(5, np.inf), X[0, 2]])
    assert_matches(ops.segment_min(X[0], ids, num_segments=3), expected_min)
    expected_prod = np.stack([X[0, 0] * X[0, 1], np.ones(5), X[0, 2]])
    assert_matches(ops.segment_prod(X[0], ids, num_segments=3), expected_prod)


def test_depth_to_space_uses_keras_channel_orders_and_inverts():
    image = np.arange(2 * 2 * 2 * 8, dtype=np.float32).reshape(2, 2, 2, 8)
    last = ops.convert_to_numpy(ops.depth_to_space(image, 2))
    # channels_last: tile (i, j) of output pixel (h, w) holds channel (i * 2 + j) * 2 + c
    assert last[0, 1, 0, 1] == image[0, 0, 0, (1 * 2 + 0) * 2 + 1]
    assert_matches(ops.space_to_depth(last, 2), image)
    channels_first = np.moveaxis(image, -1, 1)
    first = ops.convert_to_numpy(ops.depth_to_space(channels_first, 2, "channels_first"))
    # channels_first: channel c * 4 + i * 2 + j (pixel shuffle)
    assert first[0, 1, 1, 0] == channels_first[0, 1 * 4 + 1 * 2 + 0, 0, 0]
    assert_matches(ops.space_to_depth(first, 2, "channels_first"), channels_first)


def test_adaptive_pools_average_and_max_over_bins():
    x = np.arange(10, dtype=np.float32).reshape(1, 10, 1)
    assert ops.adaptive_average_pool(x, 3).reshape(-1).tolist() == [1.5, 4.5, 7.5]
    assert ops.adaptive_max_pool(x, 3).reshape(-1).tolist() == [3.0, 6.0, 9.0]
    assert tuple(ops.adaptive_average_pool(np.ones((2, 9, 7, 3)), (2, 4)).shape) == (2, 2, 4, 3)


def test_switch_calls_the_indexed_branch_and_clips_the_index():
    branches = [lambda v: v + 1, lambda v: v * 10]
    assert ops.switch(1, branches, 3) == 30
    assert ops.switch(7, branches, 3) == 30
    assert ops.switch(-2, branches, 3) == 4
