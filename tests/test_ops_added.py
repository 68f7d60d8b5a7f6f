"""The keras.ops functions added for Keras 3.15 parity: Fourier transforms and STFT,
unique/histogram/correlate/vander/view, complex views and polar, unfold/fold, custom
gradients, jvp, vectorize and associative_scan. References are float64 numpy/torch
formulas, or numbers checked against Keras 3.15's torch backend (said so where used)."""

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers import ops

RNG = np.random.default_rng(7)
REAL = RNG.normal(size=(2, 3, 10))
IMAG = RNG.normal(size=(2, 3, 10))
SIGNAL = RNG.normal(size=(2, 40))
# Checked against Keras 3.15 (torch backend) in a scratch script.
SHORT_SIGNAL = [0.0, 1.0, -2.0, 3.0, 0.5, -1.0, 2.0, 4.0, -3.0, 1.5]


def f64(x):
    return torch.tensor(np.asarray(x), dtype=torch.float64)


def assert_close(result, expected, atol=1e-9):
    expected = np.asarray(expected)
    assert tuple(result.shape) == expected.shape
    np.testing.assert_allclose(ops.convert_to_numpy(result), expected, atol=atol, rtol=1e-7)


def assert_pair(result, expected, atol=1e-9):
    assert_close(result[0], expected.real, atol)
    assert_close(result[1], expected.imag, atol)


# ---------------------------------------------------------------------------- fft family


@pytest.mark.parametrize(
    "name, reference",
    [
        ("fft", lambda z: np.fft.fft(z, axis=-1)),
        ("fft2", lambda z: np.fft.fft2(z, axes=(-2, -1))),
        ("ifft2", lambda z: np.fft.ifft2(z, axes=(-2, -1))),
    ],
)
def test_complex_transforms_match_numpy(name, reference):
    result = getattr(ops, name)((f64(REAL), f64(IMAG)))
    assert_pair(result, reference(REAL + 1j * IMAG))


@pytest.mark.parametrize("fft_length", [None, 6, 10, 15])
def test_rfft_crops_or_pads_like_numpy(fft_length):
    assert_pair(ops.rfft(f64(REAL), fft_length), np.fft.rfft(REAL, n=fft_length, axis=-1))


@pytest.mark.parametrize("fft_length", [None, 7, 18, 30])
def test_irfft_matches_numpy(fft_length):
    result = ops.irfft((f64(REAL), f64(IMAG)), fft_length)
    assert_close(result, np.fft.irfft(REAL + 1j * IMAG, n=fft_length, axis=-1))


def test_fft_of_float32_lists_is_float32():
    real, imag = ops.fft(([1.0, 2.0], [0.0, 1.0]))
    assert real.dtype == imag.dtype == torch.float32
    assert (real.tolist(), imag.tolist()) == ([3.0, -1.0], [1.0, -1.0])


@pytest.mark.parametrize(
    "bad, message",
    [
        ([1.0], "tuple of two tensors"),
        ((np.ones(3, np.float32), np.ones(4, np.float32)), "same shape"),
        ((np.ones(3, np.int32), np.ones(3, np.int32)), "not of type float"),
    ],
)
def test_fft_rejects_what_keras_rejects(bad, message):
    with pytest.raises(ValueError, match=message):
        ops.fft(bad)


def test_fft2_needs_rank_two():
    with pytest.raises(ValueError, match="rank >= 2"):
        ops.fft2(([1.0, 2.0], [0.0, 0.0]))


def test_extract_sequences_matches_sliding_windows():
    expected = np.lib.stride_tricks.sliding_window_view(SIGNAL, 7, axis=-1)[..., ::3, :]
    assert_close(ops.extract_sequences(f64(SIGNAL), 7, 3), expected)


# ---------------------------------------------------------------------------- stft / istft


def _reference_stft(x, length, stride, n_fft, window, center):
    if center:
        x = np.pad(x, [(0, 0), (n_fft // 2, n_fft // 2)], mode="reflect")
    left = (n_fft - length) // 2
    padded = np.zeros(n_fft)
    padded[left : left + length] = window
    count = 1 + (x.shape[-1] - n_fft) // stride
    frames = np.stack([x[:, t * stride : t * stride + n_fft] for t in range(count)], axis=1)
    return np.fft.rfft(frames * padded, axis=-1)


def _hann(n):
    return 0.5 - 0.5 * np.cos(2 * np.pi * np.arange(n) / n)


@pytest.mark.parametrize("center", [True, False])
@pytest.mark.parametrize("length, stride, n_fft", [(8, 4, 8), (6, 2, 10), (5, 5, 8)])
def test_stft_matches_framed_rfft(length, stride, n_fft, center):
    result = ops.stft(f64(SIGNAL), length, stride, n_fft, "hann", center)
    assert_pair(result, _reference_stft(SIGNAL, length, stride, n_fft, _hann(length), center))


def test_stft_with_hamming_tensor_and_no_window():
    hamming = 0.54 - 0.46 * np.cos(2 * np.pi * np.arange(6) / 6)
    expected = _reference_stft(SIGNAL, 6, 3, 8, hamming, True)
    assert_pair(ops.stft(f64(SIGNAL), 6, 3, 8, "hamming"), expected)
    assert_pair(ops.stft(f64(SIGNAL), 6, 3, 8, f64(hamming)), expected)
    assert_pair(ops.stft(f64(SIGNAL), 6, 3, 8, None), _reference_stft(SIGNAL, 6, 3, 8, 1, True))


def test_stft_numbers_checked_against_keras():
    # Keras 3.15: keras.ops.stft(signal, 4, 2, 6, "hann", True), first two frames.
    real, imag = ops.stft(torch.tensor(SHORT_SIGNAL), 4, 2, 6)
    assert_close(real[:2], [[1.0, -0.5, -0.5, 1.0], [0.0, 1.0, -3.0, 4.0]], atol=1e-5)
    assert_close(imag[1], [0.0, 0.866025, -0.866025, 0.0], atol=1e-5)


@pytest.mark.parametrize(
    "length, stride, n_fft, window, center",
    [
        (8, 4, 8, "hann", True),  # the torch.istft-like branch
        (8, 2, 8, "hamming", True),
        (6, 2, 8, "hann", False),  # the overlap-add branch
        (8, 8, 8, None, False),
        (8, 4, 16, "hann", True),
    ],
)
def test_istft_inverts_stft(length, stride, n_fft, window, center):
    spectrum = ops.stft(f64(SIGNAL), length, stride, n_fft, window, center)
    restored = ops.istft(spectrum, length, stride, n_fft, None, window, center)
    # Samples covered by fewer frames than the window needs (the first and last n_fft
    # without centring) are not reconstructed, in Keras either.
    inner = slice(0 if center else n_fft, restored.shape[-1] - n_fft)
    assert_close(restored[..., inner], SIGNAL[..., inner], atol=1e-9)


def test_istft_matches_torch_istft_and_its_window_gradient():
    window = torch.hann_window(8, periodic=True, dtype=torch.float64).requires_grad_(True)
    spectrum = ops.stft(f64(SIGNAL), 8, 2, 8, window.detach())
    restored = ops.istft(spectrum, 8, 2, 8, window=window)
    reference = torch.istft(
        torch.complex(*spectrum).transpose(-2, -1), 8, 2, 8, window=window, center=True
    )
    assert_close(restored, reference.detach().numpy(), atol=1e-12)
    (grad,) = torch.autograd.grad(restored.square().sum(), window)
    (expected,) = torch.autograd.grad(reference.square().sum(), window)
    assert_close(grad, expected.numpy(), atol=1e-9)


def test_istft_numbers_checked_against_keras():
    # Keras 3.15 gives back the signal, and for length=14 two reflected samples and zeros.
    spectrum = ops.stft(torch.tensor(SHORT_SIGNAL), 4, 2, 6)
    assert_close(ops.istft(spectrum, 4, 2, 6), SHORT_SIGNAL, atol=1e-5)
    spectrum = ops.stft(torch.tensor(SHORT_SIGNAL), 4, 2, 4, "hamming")
    restored = ops.istft(spectrum, 4, 2, 4, length=14, window="hamming")
    assert_close(restored, SHORT_SIGNAL + [-3.0, 4.0, 0.0, 0.0], atol=1e-5)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"sequence_stride": 0}, ValueError, "positive integer"),
        ({"sequence_stride": 2.0}, ValueError, "positive integer"),
        ({"window": "box"}, ValueError, '"hann"'),
        ({"window": np.ones(3, np.float32)}, ValueError, "sequence_length"),
        ({"fft_length": 2}, ValueError, "fft_length"),
    ],
)
def test_stft_argument_errors_follow_keras(kwargs, error, message):
    arguments = {"sequence_length": 4, "sequence_stride": 2, "fft_length": 4, **kwargs}
    with pytest.raises(error, match=message):
        ops.stft(torch.tensor(SHORT_SIGNAL), **arguments)


def test_stft_rejects_ints():
    with pytest.raises(TypeError, match="float32"):
        ops.stft(torch.arange(10), 4, 2, 4)


def test_istft_rejects_windows_that_cannot_be_inverted():
    # A periodic Hann window with stride = length is zero where frames meet (no NOLA).
    spectrum = ops.stft(torch.tensor(SHORT_SIGNAL), 4, 4, 4)
    with pytest.raises(ValueError, match="NOLA"):
        ops.istft(spectrum, 4, 4, 4)


def test_istft_rejects_too_small_stride_like_keras():
    with pytest.raises(ValueError, match="equal or greater than"):
        ops.istft((torch.ones(2, 3), torch.ones(2, 3)), 4, 1, 4, None, None, False)


# ---------------------------------------------------------------------------- complex views


def test_view_as_complex_and_back():
    pairs = np.array([[1.0, 2.0], [3.0, -4.0]])
    z = ops.view_as_complex(pairs)
    assert z.dtype == torch.complex64 and z.tolist() == [1 + 2j, 3 - 4j]
    assert ops.view_as_real(z).tolist() == pairs.tolist()
    assert ops.view_as_real(torch.tensor([1.0, 2.0])).tolist() == [[1.0, 0.0], [2.0, 0.0]]


def test_view_as_complex_needs_last_axis_two():
    with pytest.raises(ValueError, match="size 2"):
        ops.view_as_complex(np.ones((2, 3)))


def test_polar_matches_numpy():
    radius, angle = RNG.uniform(size=(3, 4)), RNG.normal(size=(3, 4))
    z = ops.polar(f64(radius), f64(angle))
    assert z.dtype == torch.complex128
    np.testing.assert_allclose(z.numpy(), radius * np.exp(1j * angle), atol=1e-12)


# ---------------------------------------------------------------------------- numpy additions


UNIQUE_INPUT = np.array([4, 2, 4, 7, 2, 2], np.int32)


def test_unique_matches_numpy():
    values, index, inverse, counts = ops.unique(
        UNIQUE_INPUT, return_index=True, return_inverse=True, return_counts=True
    )
    expected = np.unique(UNIQUE_INPUT, return_index=True, return_inverse=True, return_counts=True)
    for result, reference in zip((values, index, inverse, counts), expected):
        assert result.tolist() == reference.tolist()
    assert index.dtype == inverse.dtype == counts.dtype == torch.int32


def test_unique_along_axis_and_of_a_matrix():
    matrix = np.array([[1.0, 2.0], [1.0, 2.0], [0.0, 5.0]])
    values, index, inverse = ops.unique(matrix, axis=0, return_index=True, return_inverse=True)
    expected = np.unique(matrix, axis=0, return_index=True, return_inverse=True)
    assert values.tolist() == expected[0].tolist() and index.tolist() == expected[1].tolist()
    assert inverse.tolist() == expected[2].reshape(-1).tolist()
    values, inverse = ops.unique(matrix, return_inverse=True)
    assert inverse.tolist() == np.unique(matrix, return_inverse=True)[1].reshape(3, 2).tolist()


def test_unique_size_pads_and_crops_like_keras():
    # Keras 3.15: values padded with fill_value, first indices with 1, counts with 0.
    values, index, counts = ops.unique(
        UNIQUE_INPUT, return_index=True, return_counts=True, size=5, fill_value=9
    )
    assert (values.tolist(), index.tolist(), counts.tolist()) == (
        [2, 4, 7, 9, 9],
        [1, 0, 3, 1, 1],
        [3, 2, 1, 0, 0],
    )
    values, index, counts = ops.unique(UNIQUE_INPUT, return_index=True, return_counts=True, size=2)
    assert (values.tolist(), index.tolist(), counts.tolist()) == ([2, 4], [1, 0], [3, 2])


@pytest.mark.parametrize(
    "values, kwargs",
    [
        (RNG.normal(size=50), {"bins": 7}),
        ([1.0, 1.0], {"bins": 2}),
        ([0.0, 1.0, 1.0, 2.5, 4.0, 9.0, -1.0], {"bins": 3, "range": (0, 4)}),
        ([0.3, 0.1, 0.9, 0.55], {}),
    ],
)
def test_histogram_matches_numpy(values, kwargs):
    counts, edges = ops.histogram(f64(values), **kwargs)
    expected_counts, expected_edges = np.histogram(values, **kwargs)
    assert_close(counts, expected_counts.astype(np.float64))
    assert_close(edges, expected_edges, atol=1e-12)


@pytest.mark.parametrize(
    "kwargs, error, message",
    [
        ({"bins": 2.0}, TypeError, "must be of type `int`"),
        ({"bins": -1}, ValueError, "non-negative"),
        ({"bins": 0}, ValueError, "positive"),
        ({"range": [0, 1]}, ValueError, "tuple of two elements"),
        ({"range": (1, 0)}, ValueError, "greater than the first"),
    ],
)
def test_histogram_argument_errors(kwargs, error, message):
    with pytest.raises(error, match=message):
        ops.histogram(np.ones(3, np.float32), **kwargs)


def test_histogram_needs_one_dimension():
    with pytest.raises(ValueError, match="1-dimensional"):
        ops.histogram(np.ones((2, 2), np.float32))


@pytest.mark.parametrize("mode", ["valid", "same", "full"])
def test_correlate_matches_numpy_for_all_length_pairs(mode):
    for n1 in range(1, 6):
        for n2 in range(1, 6):
            a, v = RNG.normal(size=n1), RNG.normal(size=n2)
            assert_close(ops.correlate(f64(a), f64(v), mode), np.correlate(a, v, mode))


def test_correlate_of_ints_is_float32():
    # Keras 3.15 gives float32 for int32 and int64 inputs alike.
    result = ops.correlate(torch.tensor([1, 2, 3]), torch.tensor([1, 1]))
    assert result.dtype == torch.float32 and result.tolist() == [3.0, 5.0]


def test_correlate_errors():
    with pytest.raises(ValueError, match="1-dimensional"):
        ops.correlate(np.ones((2, 2)), np.ones(2))
    with pytest.raises(ValueError, match="`mode` must be"):
        ops.correlate(np.ones(3), np.ones(2), mode="bad")


def test_vander_matches_numpy():
    x = np.array([1, 2, 3], np.int32)
    assert ops.vander(x).tolist() == np.vander(x).tolist()
    assert ops.vander(x).dtype == torch.int32
    result = ops.vander(f64([0.5, 2.0, -1.0]), N=4, increasing=True)
    assert_close(result, np.vander([0.5, 2.0, -1.0], N=4, increasing=True))


@pytest.mark.parametrize(
    "x, kwargs, error, message",
    [
        (np.ones(3), {"N": 2.0}, TypeError, "`N` must be of type `int`"),
        (np.ones(3), {"N": -1}, ValueError, "nonnegative"),
        (np.ones(3), {"increasing": 1}, TypeError, "`increasing` must be of type `bool`"),
        (np.ones((3, 2)), {}, ValueError, "1-dimensional"),
    ],
)
def test_vander_argument_errors(x, kwargs, error, message):
    with pytest.raises(error, match=message):
        ops.vander(x, **kwargs)


@pytest.mark.parametrize(
    "values, dtype",
    [
        (np.array([1.0, -2.5], np.float32), "int32"),
        (np.array([1, 2], np.int32), "int16"),
        (np.array([1, 2, 3, 4], np.int16), "float32"),
    ],
)
def test_view_reinterprets_bytes_like_numpy(values, dtype):
    assert ops.view(values, dtype).tolist() == values.view(dtype).tolist()


def test_view_rejects_uneven_byte_counts():
    with pytest.raises(ValueError, match="not divisible"):
        ops.view(np.array([1, 2, 3], np.int16), "int32")


# ---------------------------------------------------------------------------- unfold / fold


def test_unfold_matches_explicit_patches():
    x = RNG.normal(size=(2, 3, 5, 4))
    columns = ops.unfold(f64(x), (2, 3), stride=(2, 1))
    patches = [
        x[:, :, i : i + 2, j : j + 3].reshape(2, -1) for i in range(0, 4, 2) for j in range(2)
    ]
    assert_close(columns, np.stack(patches, axis=-1))


def test_fold_sums_overlapping_patches():
    x = RNG.normal(size=(1, 2, 4, 4))
    folded = ops.fold(ops.unfold(f64(x), 2), (4, 4), 2)
    overlap = np.outer([1, 2, 2, 1], [1, 2, 2, 1])  # how many 2x2 patches cover each pixel
    assert_close(folded, x * overlap)


def test_unfold_and_fold_rank_errors():
    with pytest.raises(ValueError, match="4D"):
        ops.unfold(np.ones((3, 4, 4)), 2)
    with pytest.raises(ValueError, match="3D"):
        ops.fold(np.ones((1, 4, 4, 4)), (3, 3), 2)
    with pytest.raises(ValueError, match="divisible by kernel_size product"):
        ops.fold(np.ones((1, 5, 4)), (3, 3), 2)


# ---------------------------------------------------------------------------- functions


def test_custom_gradient_uses_the_given_gradient():
    @ops.custom_gradient
    def log1pexp(x):
        e = ops.exp(x)

        def grad(*args, upstream=None):
            return upstream * (1.0 - 1.0 / (1.0 + e))

        return ops.log(1.0 + e), grad

    x = torch.tensor([0.0, 1.0, 100.0], requires_grad=True)
    log1pexp(x).sum().backward()
    # Keras 3.15 gives the same: the stable gradient is 1.0 where autograd would give nan.
    assert_close(x.grad, [0.5, 1 / (1 + np.exp(-1.0)), 1.0], atol=1e-6)


def test_custom_gradient_with_two_inputs():
    @ops.custom_gradient
    def product(a, b):
        return a * b, lambda a, b, upstream: (upstream * 10.0, upstream * 20.0)

    a = torch.tensor(2.0, requires_grad=True)
    b = torch.tensor(3.0, requires_grad=True)
    product(a, b).backward()
    assert (a.grad.item(), b.grad.item()) == (10.0, 20.0)


def test_custom_gradient_errors():
    with pytest.raises(TypeError, match="callable"):
        ops.custom_gradient(3)
    with pytest.raises(TypeError, match="pair"):
        ops.custom_gradient(lambda x: x)(torch.ones(2))
    wrong = ops.custom_gradient(lambda a, b: (a * b, lambda a, b, upstream: upstream))
    with pytest.raises(ValueError, match="1 gradient"):
        wrong(torch.ones(2, requires_grad=True), torch.ones(2)).sum().backward()


def test_jvp_is_the_directional_derivative():
    x, y, dx, dy = (RNG.normal(size=4) for _ in range(4))
    value, derivative = ops.jvp(lambda a, b: torch.sin(a) * b, (f64(x), f64(y)), (dx, dy))
    assert_close(value, np.sin(x) * y)
    assert_close(derivative, np.cos(x) * y * dx + np.sin(x) * dy)


def test_jvp_with_aux():
    value, derivative, aux = ops.jvp(
        lambda a: (a**3, a.sum()), (f64([1.0, 2.0]),), ([1.0, 1.0],), has_aux=True
    )
    assert value.tolist() == [1.0, 8.0] and derivative.tolist() == [3.0, 12.0]
    assert aux.item() == 3.0


def test_jvp_errors():
    with pytest.raises(TypeError, match="tuples or lists"):
        ops.jvp(torch.sin, torch.ones(2), torch.ones(2))
    with pytest.raises(ValueError, match="one tangent per primal"):
        ops.jvp(torch.sin, (torch.ones(2),), ())


def test_vectorize_broadcasts_elementwise():
    def clipped_difference(a, b):
        return torch.where(a > b, a - b, torch.zeros_like(a))

    a, b = RNG.normal(size=(3, 1)), RNG.normal(size=(4,))
    expected = np.vectorize(lambda p, q: max(p - q, 0.0))(a, b)
    assert_close(ops.vectorize(clipped_difference)(f64(a), f64(b)), expected)


def test_vectorize_with_signature_and_excluded():
    matrices, vector = RNG.normal(size=(2, 3, 4)), RNG.normal(size=(4,))
    matvec = ops.vectorize(torch.matmul, signature="(m,n),(n)->(m)")
    assert_close(matvec(f64(matrices), f64(vector)), np.einsum("bmn,n->bm", matrices, vector))
    scaled = ops.vectorize(lambda x, factor: x * factor, excluded={1})
    assert_close(scaled(f64([1.0, 2.0]), 3.0), [3.0, 6.0])


def test_vectorize_errors():
    with pytest.raises(ValueError, match="callable"):
        ops.vectorize(3)
    with pytest.raises(ValueError, match="not a valid gufunc signature"):
        ops.vectorize(torch.sum, signature="(n->")
    matvec = ops.vectorize(torch.matmul, signature="(m,n),(n)->(m)")
    with pytest.raises(ValueError, match="inconsistent size for core dimension 'n'"):
        matvec(np.ones((2, 3, 4)), np.ones(3))
    identity = ops.vectorize(lambda x: x, signature="(n)->()")
    with pytest.raises(ValueError, match="does not match core dimensions"):
        identity(np.ones((2, 3)))


@pytest.mark.parametrize("length", [1, 2, 5, 8])
@pytest.mark.parametrize("reverse", [False, True])
@pytest.mark.parametrize("axis", [0, -1])
def test_associative_scan_of_add_is_cumsum(length, reverse, axis):
    x = RNG.normal(size=(length, length + 1)) if axis == 0 else RNG.normal(size=(3, length))
    flipped = np.flip(x, axis) if reverse else x
    expected = np.cumsum(flipped, axis=axis)
    expected = np.flip(expected, axis) if reverse else expected
    result = ops.associative_scan(ops.add, f64(x), reverse=reverse, axis=axis)
    assert_close(result, expected, atol=1e-12)


def test_associative_scan_of_a_linear_recurrence():
    # (a, b) pairs compose as h -> a2 * (a1 * h + b1) + b2: a scan gives h_t = a_t h_{t-1} + b_t.
    a, b = RNG.uniform(size=(7, 2)), RNG.normal(size=(7, 2))

    def compose(first, second):
        return (second[0] * first[0], second[0] * first[1] + second[1])

    _, states = ops.associative_scan(compose, (f64(a), f64(b)))
    h, expected = np.zeros(2), []
    for t in range(7):
        h = a[t] * h + b[t]
        expected.append(h)
    assert_close(states, np.stack(expected), atol=1e-12)


def test_associative_scan_errors():
    with pytest.raises(TypeError, match="callable"):
        ops.associative_scan(3, np.ones(3))
    with pytest.raises(ValueError, match="same first dimension"):
        ops.associative_scan(ops.add, (np.ones((6, 2)), np.ones((3, 2))))


# ---------------------------------------------------------------------------- symbolic use


def test_spectral_ops_build_functional_models():
    real, imag = keras.Input((10,)), keras.Input((10,))
    out_real, out_imag = ops.fft((real, imag))
    spectrum = ops.stft(real, 4, 2, 6)
    assert out_real.shape == (None, 10) and spectrum[0].shape == (None, 6, 4)
    model = keras.Model([real, imag], [out_real, out_imag, ops.istft(spectrum, 4, 2, 6)])
    inputs = [REAL[0].astype(np.float32), IMAG[0].astype(np.float32)]
    fft_real, fft_imag, restored = model.predict(inputs, verbose=0)
    expected = np.fft.fft(inputs[0] + 1j * inputs[1], axis=-1)
    np.testing.assert_allclose(fft_real, expected.real, atol=1e-5)
    np.testing.assert_allclose(fft_imag, expected.imag, atol=1e-5)
    np.testing.assert_allclose(restored, inputs[0], atol=1e-5)


def test_function_taking_ops_refuse_symbolic_tensors():
    with pytest.raises(ValueError, match="cannot run on symbolic tensors"):
        ops.associative_scan(ops.add, keras.Input((4,)))


def test_histogram_builds_a_functional_model():
    values = keras.Input(batch_shape=(5,))
    counts, edges = ops.histogram(values, bins=3)
    assert counts.shape == (3,) and edges.shape == (4,)
    data = np.array([0.0, 1.0, 1.0, 2.0, 4.0], np.float32)
    result = keras.Model(values, [counts, edges]).predict(data, verbose=0)
    expected = np.histogram(data, bins=3)
    np.testing.assert_allclose(result[0], expected[0])
    np.testing.assert_allclose(result[1], expected[1], atol=1e-6)
