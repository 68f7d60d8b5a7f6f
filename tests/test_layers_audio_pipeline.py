"""MelSpectrogram, STFTSpectrogram, the STFT initializer, Pipeline and HashedCrossing.

The spectrogram layers are compared with float64 NumPy references written out here (framing,
windowing, `np.fft.rfft`, HTK mel filters). The layers were also run side by side with Keras
3.15 (torch backend, SciPy installed) in a scratch script: same shapes, and values equal to
float32 rounding (Keras builds its STFT phases in float32, we in float64). The window values
below were printed by `scipy.signal.get_window` 1.17. HashedCrossing's bins are the ones in
Keras's docstring and tests (TensorFlow's `cross_hashed`; TensorFlow is not installed here).
"""

import math

import numpy as np
import pytest
import torch

import tritonlayers as keras
from tritonlayers.initializers import get_window
from tritonlayers.layers.audio_preprocessing import mel_weight_matrix

L = keras.layers
RNG = np.random.RandomState(7)
AUDIO = RNG.uniform(-1.0, 1.0, size=(2, 1200)).astype(np.float32)
MULTI = RNG.uniform(-1.0, 1.0, size=(2, 700, 3)).astype(np.float32)


# ------------------------------------------------------------------ float64 references


def _sym_cosine_window(n: int, a0: float, periodic: bool) -> np.ndarray:
    m = n + 1 if periodic else n
    return (a0 - (1 - a0) * np.cos(2 * np.pi * np.arange(m) / (m - 1)))[:n]


def _stft_reference(x, frame_length, step, fft_length, window, scaling, padding):
    """(real, imag) of (batch, channels, bins, frames) for channels-last x, in float64."""
    x = np.asarray(x, np.float64).transpose(0, 2, 1)
    if padding == "same":
        frames = -(-x.shape[-1] // step)
        total = max((frames - 1) * step + frame_length - x.shape[-1], 0)
        x = np.pad(x, ((0, 0), (0, 0), (total // 2, total - total // 2)))
    count = 1 + (x.shape[-1] - frame_length) // step
    frames = np.stack([x[..., t * step : t * step + frame_length] for t in range(count)], -1)
    if window is not None:
        norm = {"density": np.sqrt((window**2).sum()), "spectrum": np.abs(window).sum()}
        frames = frames * (window / norm.get(scaling, 1.0))[:, None]
    spectrum = np.fft.rfft(frames, n=fft_length, axis=-2)
    return spectrum.real, spectrum.imag


def _hz_to_mel(f):
    return 1127.0 * np.log(1.0 + np.asarray(f, np.float64) / 700.0)


def _mel_reference_matrix(num_mel, bins, rate, low, high):
    freqs = np.linspace(0.0, rate / 2.0, bins)
    edges = np.linspace(_hz_to_mel(low), _hz_to_mel(high), num_mel + 2)
    out = np.zeros((bins, num_mel))
    for k in range(1, bins):
        m = _hz_to_mel(freqs[k])
        for j in range(num_mel):
            lo, mid, hi = edges[j], edges[j + 1], edges[j + 2]
            out[k, j] = max(0.0, min((m - lo) / (mid - lo), (hi - m) / (hi - mid)))
    return out


def _mel_reference(x, fft, stride, seq_len, window, rate, num_mel, low, high, db, mag_exp):
    x = np.asarray(x, np.float64)
    padded = np.pad(x, [(0, 0)] * (x.ndim - 1) + [(fft // 2, fft // 2)], mode="reflect")
    count = 1 + (padded.shape[-1] - fft) // stride
    frames = np.stack([padded[..., t * stride : t * stride + fft] for t in range(count)], -2)
    win = np.ones(seq_len) if window is None else _sym_cosine_window(seq_len, window, True)
    left = (fft - seq_len) // 2
    full = np.zeros(fft)
    full[left : left + seq_len] = win
    power = np.abs(np.fft.rfft(frames * full, axis=-1)) ** mag_exp
    mel = power @ _mel_reference_matrix(num_mel, fft // 2 + 1, rate, low, high)
    if db:
        mel = 10.0 * np.log10(np.maximum(mel, 1e-10))
        mel = np.maximum(mel, mel.max() - 80.0)
    return np.swapaxes(mel, -1, -2)


# --------------------------------------------------------------------- STFT initializer


def test_get_window_matches_scipy_values():
    np.testing.assert_allclose(
        get_window("tukey", 8),
        [0.0, 0.6112604669781572, 1.0, 1.0, 1.0, 1.0, 0.6112604669781576, 0.0],
        atol=1e-15,
    )
    np.testing.assert_allclose(
        get_window("blackman", 6, periodic=True),
        [0.0, 0.13, 0.63, 1.0, 0.63, 0.13],
        atol=1e-15,
    )
    edge, inner = 0.0013325139979024198, 0.34039362244018856
    np.testing.assert_allclose(
        get_window(("kaiser", 8.6), 5), [edge, inner, 1.0, inner, edge], rtol=1e-12
    )
    np.testing.assert_allclose(get_window("tri", 6), [1 / 6, 0.5, 5 / 6, 5 / 6, 0.5, 1 / 6])
    np.testing.assert_allclose(get_window("bartlett", 5, periodic=True), [0, 0.4, 0.8, 0.8, 0.4])


@pytest.mark.parametrize("side", ["real", "imag"])
@pytest.mark.parametrize(
    "window, scaling, periodic",
    [("hann", "density", False), ("hamming", "spectrum", True), (None, None, False)],
)
def test_stft_initializer_is_the_windowed_dft(side, window, scaling, periodic):
    frames, bins = 24, 17
    kernel = keras.initializers.STFT(side, window, scaling, periodic)((frames, 1, bins), "float64")
    t = np.arange(frames)[:, None]
    f = np.arange(bins)[None, :]
    expected = np.exp(-2j * np.pi * t * f / (2 * (bins - 1)))
    expected = expected.real if side == "real" else expected.imag
    if window is not None:
        win = _sym_cosine_window(frames, 0.5 if window == "hann" else 0.54, periodic)
        win = win / (np.sqrt((win**2).sum()) if scaling == "density" else np.abs(win).sum())
        expected = expected * win[:, None]
    assert kernel.dtype == torch.float64 and kernel.shape == (frames, 1, bins)
    np.testing.assert_allclose(kernel[:, 0].cpu().numpy(), expected, atol=1e-12)


def test_stft_initializer_identifiers_and_config_round_trip():
    assert keras.initializers.STFTInitializer is keras.initializers.STFT
    assert keras.initializers.stft is keras.initializers.STFT
    assert isinstance(keras.initializers.get("stft"), keras.initializers.STFT)
    init = keras.initializers.STFT("imag", ("tukey", 0.3), "spectrum", True)
    clone = keras.initializers.deserialize(keras.initializers.serialize(init))
    assert clone.get_config() == {
        "side": "imag",
        "window": ["tukey", 0.3],
        "periodic": True,
        "scaling": "spectrum",
    }
    assert torch.equal(clone((16, 1, 9)), init((16, 1, 9)))


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"side": "complex"}, "STFT: `side`"),
        ({"scaling": "l2"}, "STFT: `scaling`"),
        ({"window": "unknowable"}, "STFT: unknown window"),
        ({"window": "kaiser"}, "needs its beta"),
    ],
)
def test_stft_initializer_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=match):
        keras.initializers.STFT(**kwargs)


def test_stft_initializer_rejects_window_of_wrong_length():
    with pytest.raises(ValueError, match=r"STFT: the shape of `window`.*\(5,\)"):
        keras.initializers.STFT(window=np.ones(5))((8, 1, 5))


# ----------------------------------------------------------------------- STFTSpectrogram


@pytest.mark.parametrize("mode", ["log", "magnitude", "psd", "real", "imag", "angle", "stft"])
def test_stft_spectrogram_modes_match_float64_reference(mode):
    layer = L.STFTSpectrogram(mode=mode, frame_length=60, frame_step=25, fft_length=64)
    out = layer(MULTI).detach().cpu().numpy().astype(np.float64)
    window = _sym_cosine_window(60, 0.5, False)
    real, imag = _stft_reference(MULTI, 60, 25, 64, window, "density", "valid")
    power = real**2 + imag**2
    expected = {
        "real": real,
        "imag": imag,
        "angle": np.arctan2(imag, real),
        "stft": np.concatenate([real, imag], axis=2),
        "psd": power + np.pad(power[:, :, 1:-1], ((0, 0), (0, 0), (1, 1), (0, 0))),
        "magnitude": np.sqrt(np.maximum(power, 1e-7)),
        "log": np.log(np.maximum(np.sqrt(np.maximum(power, 1e-7)), 1e-7)),
    }[mode]
    b, c, f, t = expected.shape
    expected = expected.reshape(b, c * f, t).transpose(0, 2, 1)
    if mode == "angle":  # compare the angle where it is well defined
        keep = power.reshape(b, c * f, t).transpose(0, 2, 1) > 1e-6
        diff = np.angle(np.exp(1j * (out - expected)))
        assert np.abs(diff[keep]).max() < 1e-4
    else:
        np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-5)


def test_stft_spectrogram_float64_policy_is_exact():
    layer = L.STFTSpectrogram(mode="stft", frame_length=48, frame_step=16, dtype="float64")
    out = layer(MULTI.astype(np.float64)).detach().cpu().numpy()
    real, imag = _stft_reference(
        MULTI, 48, 16, 64, _sym_cosine_window(48, 0.5, False), "density", "valid"
    )
    expected = np.concatenate([real, imag], axis=2)
    b, c, f, t = expected.shape
    expected = expected.reshape(b, c * f, t).transpose(0, 2, 1)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, expected, atol=1e-12)


@pytest.mark.parametrize("data_format", ["channels_last", "channels_first"])
@pytest.mark.parametrize("expand_dims", [False, True])
def test_stft_spectrogram_same_padding_layouts_match_reference(data_format, expand_dims):
    layer = L.STFTSpectrogram(
        mode="psd",
        frame_length=50,
        frame_step=20,
        fft_length=64,
        window="hamming",
        periodic=True,
        scaling="spectrum",
        padding="same",
        expand_dims=expand_dims,
        data_format=data_format,
    )
    x = MULTI if data_format == "channels_last" else MULTI.transpose(0, 2, 1)
    out = layer(x).detach().cpu().numpy()
    real, imag = _stft_reference(
        MULTI, 50, 20, 64, _sym_cosine_window(50, 0.54, True), "spectrum", "same"
    )
    power = real**2 + imag**2
    psd = power + np.pad(power[:, :, 1:-1], ((0, 0), (0, 0), (1, 1), (0, 0)))  # (b, c, f, t)
    b, c, f, t = psd.shape
    assert t == math.ceil(700 / 20)
    expected = {
        ("channels_last", True): psd.transpose(0, 3, 2, 1),
        ("channels_first", True): psd.transpose(0, 1, 3, 2),
        ("channels_last", False): psd.reshape(b, c * f, t).transpose(0, 2, 1),
        ("channels_first", False): psd.reshape(b, c * f, t),
    }[(data_format, expand_dims)]
    np.testing.assert_allclose(out, expected, rtol=1e-4, atol=1e-7)


@pytest.mark.parametrize(
    "kwargs, input_shape",
    [
        ({"frame_length": 64}, (2, 500, 3)),
        ({"frame_length": 50, "frame_step": 7, "mode": "stft", "padding": "same"}, (1, 333, 2)),
        ({"frame_length": 40, "expand_dims": True, "data_format": "channels_first"}, (2, 3, 90)),
        ({"frame_length": 30, "fft_length": 64, "data_format": "channels_first"}, (1, 2, 100)),
    ],
)
def test_stft_spectrogram_compute_output_shape_equals_output(kwargs, input_shape):
    layer = L.STFTSpectrogram(**kwargs)
    out = layer(np.zeros(input_shape, np.float32))
    assert tuple(out.shape) == layer.compute_output_shape(input_shape)
    assert layer.compute_output_shape((None, *input_shape[1:]))[0] is None


def test_stft_spectrogram_warns_on_fft_length_not_a_power_of_two():
    with pytest.warns(UserWarning, match="STFTSpectrogram: `fft_length` is recommended"):
        layer = L.STFTSpectrogram(frame_length=30, fft_length=40)
    assert layer.compute_output_shape((1, 100, 1)) == (1, 5, 21)


def test_stft_spectrogram_config_round_trip_keeps_numbers():
    layer = L.STFTSpectrogram(
        mode="magnitude", frame_length=40, frame_step=10, window=np.hanning(40), scaling=None
    )
    out = layer(MULTI)
    clone = L.STFTSpectrogram.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    torch.testing.assert_close(clone(MULTI), out)


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"frame_length": 256, "frame_step": 1024}, "`frame_step` should be a positive"),
        ({"frame_length": 256, "frame_step": 0}, "`frame_step` should be a positive"),
        ({"frame_length": 256, "fft_length": 128}, "`fft_length` should be not less"),
        ({"padding": "causal"}, "padding is invalid"),
        ({"scaling": "l2"}, "`scaling` is invalid"),
        ({"mode": "spectrogram"}, "output mode is invalid"),
        ({"window": "unknowable"}, "unknown window"),
        ({"frame_length": 0}, "`frame_length` must be a positive integer"),
    ],
)
def test_stft_spectrogram_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"STFTSpectrogram: .*{match}"):
        L.STFTSpectrogram(**kwargs)


def test_stft_spectrogram_rejects_integer_short_or_wrong_rank_audio():
    with pytest.raises(TypeError, match="STFTSpectrogram .*Expected `float16`"):
        L.STFTSpectrogram(frame_length=16)(np.ones((1, 100, 1), dtype=np.int64))
    with pytest.raises(ValueError, match="ndim=3"):
        L.STFTSpectrogram(frame_length=16)(np.ones((1, 100), dtype=np.float32))
    with pytest.raises(ValueError, match="STFTSpectrogram .*at least frame_length=16"):
        L.STFTSpectrogram(frame_length=16)(np.ones((1, 10, 1), dtype=np.float32))


def test_stft_spectrogram_in_sequential_trains_its_kernels():
    layer = L.STFTSpectrogram(mode="magnitude", frame_length=32, frame_step=16)
    model = keras.Sequential([keras.Input((None, 1)), layer, L.GlobalAveragePooling1D()])
    model.compile(optimizer="sgd", loss="mse")
    x = AUDIO[..., None]
    assert model.predict(x, verbose=0).shape == (2, 17)
    before = layer.real_kernel.numpy().copy()
    model.fit(x, np.zeros((2, 17), np.float32), epochs=1, verbose=0)
    assert [w.name for w in layer.trainable_weights] == ["real_kernel", "imag_kernel"]
    assert np.abs(layer.real_kernel.numpy() - before).max() > 0


def test_stft_spectrogram_not_trainable_keeps_two_non_trainable_kernels():
    layer = L.STFTSpectrogram(mode="real", frame_length=16, trainable=False)
    layer(np.zeros((1, 64, 1), np.float32))
    assert layer.trainable_weights == [] and len(layer.non_trainable_weights) == 1


# ------------------------------------------------------------------------ MelSpectrogram


def test_mel_weight_matrix_matches_htk_reference():
    matrix = mel_weight_matrix(12, 65, 16000, 30.0, 7000.0)
    assert matrix.dtype == torch.float64 and matrix.shape == (65, 12)
    expected = _mel_reference_matrix(12, 65, 16000, 30.0, 7000.0)
    np.testing.assert_allclose(matrix.numpy(), expected, atol=1e-12)
    layer = L.MelSpectrogram()
    as_keras = layer.linear_to_mel_weight_matrix(12, 65, 16000, 30.0, 7000.0, dtype="float32")
    assert as_keras.dtype == torch.float32
    np.testing.assert_allclose(as_keras.cpu().numpy(), expected, atol=1e-6)


@pytest.mark.parametrize(
    "kwargs, window, db, mag_exp",
    [
        ({}, 0.5, True, 2.0),
        ({"power_to_db": False, "mag_exp": 1.0, "window": None}, None, False, 1.0),
        ({"sequence_length": 100, "window": "hamming", "power_to_db": False}, 0.54, False, 2.0),
    ],
)
def test_mel_spectrogram_matches_float64_reference(kwargs, window, db, mag_exp):
    base = {"fft_length": 128, "sequence_stride": 50, "sampling_rate": 8000, "num_mel_bins": 20}
    layer = L.MelSpectrogram(**base, min_freq=40.0, max_freq=3500.0, **kwargs)
    out = layer(AUDIO).cpu().numpy()
    seq_len = kwargs.get("sequence_length", 128)
    expected = _mel_reference(AUDIO, 128, 50, seq_len, window, 8000, 20, 40.0, 3500.0, db, mag_exp)
    assert out.shape == expected.shape == (2, 20, 1 + 1200 // 50)
    if db:
        np.testing.assert_allclose(out, expected, atol=2e-3)
    else:
        np.testing.assert_allclose(out, expected, rtol=2e-4, atol=1e-4 * np.abs(expected).max())


def test_mel_spectrogram_float64_policy_is_exact():
    layer = L.MelSpectrogram(
        fft_length=128, sequence_stride=50, sampling_rate=8000, num_mel_bins=20, dtype="float64"
    )
    out = layer(AUDIO.astype(np.float64)).cpu().numpy()
    expected = _mel_reference(AUDIO, 128, 50, 128, 0.5, 8000, 20, 20.0, 4000, True, 2.0)
    assert out.dtype == np.float64
    np.testing.assert_allclose(out, expected, atol=1e-9)


def test_mel_spectrogram_db_floor_is_relative_to_the_whole_batch_maximum():
    loud_and_quiet = np.stack([AUDIO[0], AUDIO[1] * 1e-3])
    out = L.MelSpectrogram(fft_length=128, sequence_stride=64, num_mel_bins=16)(loud_and_quiet)
    out = out.cpu().numpy()
    top = out.max()
    assert out[1].max() < top - 40.0  # the quiet clip is judged against the loud one's peak
    np.testing.assert_allclose(out.min(), top - 80.0, atol=1e-4)


def test_mel_spectrogram_unbatched_matches_batched():
    layer = L.MelSpectrogram(fft_length=128, sequence_stride=64, num_mel_bins=16)
    single = layer(AUDIO[:1]).cpu().numpy()[0]
    torch.testing.assert_close(layer(AUDIO[0]).cpu(), torch.as_tensor(single))


@pytest.mark.parametrize("shape, stride", [((2, 2047), 512), ((1000,), 100), ((2, 3, 900), 64)])
def test_mel_spectrogram_compute_output_shape_equals_output(shape, stride):
    # Keras 3.15's formula says 5 frames for 2047 samples at stride 512; the output has 4.
    layer = L.MelSpectrogram(fft_length=256, sequence_stride=stride, num_mel_bins=8)
    out = layer(np.zeros(shape, np.float32))
    assert tuple(out.shape) == layer.compute_output_shape(shape)


def test_mel_spectrogram_config_round_trip_and_sequential():
    layer = L.MelSpectrogram(
        fft_length=128, sequence_stride=32, num_mel_bins=10, window=np.hamming(128), top_db=40.0
    )
    config = layer.get_config()
    assert config["max_freq"] == 8000 and config["sequence_length"] == 128
    clone = L.MelSpectrogram.from_config(config)
    model = keras.Sequential([keras.Input((1200,)), clone])
    assert model.output.shape == (None, 10, 38)
    torch.testing.assert_close(torch.as_tensor(model.predict(AUDIO, verbose=0)), layer(AUDIO).cpu())


@pytest.mark.parametrize(
    "kwargs, match",
    [
        ({"fft_length": 256, "sequence_length": 512}, "`fft_length` must be greater than"),
        ({"sequence_stride": 0}, "`sequence_stride` must be a positive integer"),
        ({"window": "blackman"}, 'must be one of "hann", "hamming"'),
    ],
)
def test_mel_spectrogram_rejects_bad_arguments(kwargs, match):
    with pytest.raises(ValueError, match=f"MelSpectrogram: .*{match}"):
        L.MelSpectrogram(**kwargs)


def test_mel_spectrogram_rejects_audio_shorter_than_half_a_frame():
    with pytest.raises(ValueError, match=r"MelSpectrogram .*more than fft_length // 2 = 128"):
        L.MelSpectrogram(fft_length=256)(np.zeros((1, 100), np.float32))


# ------------------------------------------------------------------------------ Pipeline


class _Recorder(keras.Layer):
    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seen = []

    def call(self, x, training=False, mask=None):
        self.seen.append((training, mask is not None))
        return x + 1.0

    def compute_mask(self, x, mask=None):
        return torch.ones(x.shape[:1], dtype=torch.bool)


def test_pipeline_applies_layers_in_order():
    pipeline = L.Pipeline([L.Rescaling(2.0), L.Rescaling(1.0, offset=-1.0)])
    out = pipeline(np.array([[1.0, 3.0]], np.float32))
    assert out.tolist() == [[1.0, 5.0]]
    assert pipeline.compute_output_shape((None, 2)) == (None, 2)


def test_pipeline_defaults_to_training_and_passes_the_mask_on():
    first, second = _Recorder(), _Recorder()
    L.Pipeline([first, second])(torch.zeros(2, 3))
    assert first.seen == [(True, False)] and second.seen == [(True, True)]
    out = L.Pipeline([first])(torch.zeros(2, 3), training=False, mask=torch.ones(2).bool())
    assert first.seen[-1] == (False, True)
    assert out._keras_mask.tolist() == [True, True]  # the last layer's mask stays on


def test_pipeline_inside_sequential_predict_does_not_augment():
    model = keras.Sequential([keras.Input((6,)), L.Pipeline([L.Dropout(0.5, seed=3), L.Dense(2)])])
    x = np.ones((4, 6), np.float32)
    assert model.output.shape == (None, 2)
    expected = model(x, training=False).detach().cpu().numpy()
    np.testing.assert_allclose(model.predict(x, verbose=0), expected, rtol=1e-6)
    assert len(model.trainable_weights) == 2


def test_pipeline_config_round_trip():
    pipeline = L.Pipeline([L.Rescaling(0.5), L.CenterCrop(2, 2)], name="prep")
    config = pipeline.get_config()
    assert set(config) == {"layers", "name"} and config["name"] == "prep"
    serialized = config["layers"]
    clone = L.Pipeline.from_config(config)
    assert config["layers"] is serialized  # the caller's config is left alone
    x = RNG.uniform(size=(1, 4, 4, 1)).astype(np.float32)
    assert [type(layer).__name__ for layer in clone.layers] == ["Rescaling", "CenterCrop"]
    torch.testing.assert_close(clone(x), pipeline(x))


def test_pipeline_rejects_bad_layers_and_malformed_config():
    with pytest.raises(ValueError, match="Pipeline: `layers` must be a list of Layer"):
        L.Pipeline("rescaling")
    with pytest.raises(ValueError, match="Pipeline: the config must contain a `layers` key"):
        L.Pipeline.from_config({"name": "p"})


# ------------------------------------------------------------------------ HashedCrossing

FEAT1 = np.array(["A", "B", "A", "B", "A"])
FEAT2 = np.array([101, 101, 101, 102, 102])


def test_hashed_crossing_matches_keras_bins():
    # keras/src/layers/preprocessing/hashed_crossing_test.py: [1, 4, 1, 1, 3].
    out = L.HashedCrossing(num_bins=5)((FEAT1, FEAT2))
    assert out.dtype == torch.int64 and out.tolist() == [1, 4, 1, 1, 3]
    assert L.HashedCrossing(num_bins=10)(("A", 101)).tolist() == 1  # scalars: TF test value
    column = L.HashedCrossing(num_bins=5)((FEAT1[:, None], torch.as_tensor(FEAT2[:, None])))
    assert column.tolist() == [[1], [4], [1], [1], [3]]


def test_hashed_crossing_one_hot():
    layer = L.HashedCrossing(num_bins=5, output_mode="one_hot")
    out = layer((FEAT1[:, None], FEAT2[:, None]))
    assert out.dtype == torch.float32
    assert out.argmax(-1).tolist() == [1, 4, 1, 1, 3] and out.sum().item() == 5.0
    assert layer.compute_output_shape(((5, 1), (5, 1))) == (5, 5) == tuple(out.shape)
    assert tuple(layer(("A", 101)).shape) == (5,)


def test_hashed_crossing_output_dtype_follows_the_layer_dtype():
    pair = (np.array([1, 2]), np.array([4, 5]))
    assert L.HashedCrossing(num_bins=3).get_config()["dtype"]["config"]["name"] == "int64"
    assert L.HashedCrossing(num_bins=3, dtype="int32")(pair).dtype == torch.int32
    one_hot = L.HashedCrossing(num_bins=4, output_mode="one_hot", dtype="float64")(pair)
    assert one_hot.dtype == torch.float64 and tuple(one_hot.shape) == (2, 4)


def test_hashed_crossing_compute_output_shape_and_config_round_trip():
    layer = L.HashedCrossing(num_bins=7)
    assert layer.compute_output_shape(((None,), (None,))) == (None,)
    clone = L.HashedCrossing.from_config(layer.get_config())
    assert clone.get_config() == layer.get_config()
    assert torch.equal(clone((FEAT1, FEAT2)), layer((FEAT1, FEAT2)))


@pytest.mark.parametrize(
    "inputs, match",
    [
        (np.array(1), "called on a list or tuple"),
        ([np.array(1)], "at least two inputs"),
        ((np.array([1.0]), np.array([1.0])), "integer or string dtype"),
        ((np.ones((2, 2), np.int64), np.ones((2, 2), np.int64)), "should have shape"),
        ((np.ones(2, np.int64), np.ones(3, np.int64)), "equal shape"),
    ],
)
def test_hashed_crossing_rejects_bad_inputs(inputs, match):
    with pytest.raises(ValueError, match=f"HashedCrossing: .*{match}"):
        L.HashedCrossing(num_bins=10)(inputs)


def test_hashed_crossing_rejects_bad_arguments():
    with pytest.raises(ValueError, match="HashedCrossing: `num_bins` must be a positive"):
        L.HashedCrossing(num_bins=0)
    with pytest.raises(ValueError, match="HashedCrossing: invalid value for argument"):
        L.HashedCrossing(num_bins=3, output_mode="multi_hot")
    with pytest.raises(ValueError, match="HashedCrossing: `sparse=True`"):
        L.HashedCrossing(num_bins=3, sparse=True)
