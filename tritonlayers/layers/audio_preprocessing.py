"""Audio preprocessing layers: MelSpectrogram and STFTSpectrogram.

MelSpectrogram is fixed math on `ops.stft` (no weights): the power spectrogram of centred,
windowed frames, warped onto the HTK mel scale and optionally turned into decibels.
STFTSpectrogram computes the transform as a strided 1-D convolution whose kernels start as
the STFT's cosines and sines times a window (`initializers.STFT`), so they can be trained.
Both follow Keras 3.15's numbers; the mel weights and the STFT kernels are computed in
float64 and then cast to the compute dtype.
"""

import math
import warnings
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F

from .. import config, initializers
from ..dtype_policies import to_torch_dtype
from ..ops import stft
from ._arguments import conv_output_length, same_padding, standardize_data_format
from .input_spec import InputSpec
from .layer import Layer

# The HTK mel scale: mel(f) = 1127 * ln(1 + f / 700).
_MEL_BREAK_FREQUENCY_HERTZ = 700.0
_MEL_HIGH_FREQUENCY_Q = 1127.0


def _check_positive_int(layer: str, name: str, value: Any) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(
            f"{layer}: `{name}` must be a positive integer. Received: {name}={value!r}"
        )


def _serializable_window(window: Any) -> Any:
    """A window for `get_config`: arrays and tensors as lists, a (name, parameter) tuple as a
    list; names and None as they are."""
    if isinstance(window, torch.Tensor):
        return window.detach().cpu().tolist()
    if isinstance(window, np.ndarray):
        return window.tolist()
    if isinstance(window, tuple):
        return list(window)
    return window


def _hertz_to_mel(hertz: torch.Tensor) -> torch.Tensor:
    return _MEL_HIGH_FREQUENCY_Q * torch.log1p(hertz / _MEL_BREAK_FREQUENCY_HERTZ)


def mel_weight_matrix(
    num_mel_bins: int,
    num_spectrogram_bins: int,
    sampling_rate: float,
    lower_edge_hertz: float,
    upper_edge_hertz: float,
) -> torch.Tensor:
    """The float64 ``(num_spectrogram_bins, num_mel_bins)`` matrix of triangular mel filters
    (peak 1, HTK scale) over ``[lower_edge_hertz, upper_edge_hertz]``, for the linear bins of
    ``[0, sampling_rate / 2]``; the DC bin gets no weight. ``spectrum @ matrix`` warps a
    spectrogram onto the mel scale.

    Example:
    >>> from tritonlayers.layers.audio_preprocessing import mel_weight_matrix
    >>> m = mel_weight_matrix(2, 5, 8000, 0.0, 4000.0)
    >>> [[round(v, 3) for v in row] for row in m.tolist()]
    [[0.0, 0.0], [0.602, 0.398], [0.0, 0.873], [0.0, 0.377], [0.0, 0.0]]
    """
    nyquist = sampling_rate / 2.0
    linear = torch.linspace(0.0, nyquist, num_spectrogram_bins, dtype=torch.float64)[1:]
    bins_mel = _hertz_to_mel(linear).unsqueeze(1)
    edges = torch.tensor([lower_edge_hertz, upper_edge_hertz], dtype=torch.float64)
    low_mel, high_mel = _hertz_to_mel(edges).tolist()
    band_edges = torch.linspace(low_mel, high_mel, num_mel_bins + 2, dtype=torch.float64)
    lower, center, upper = band_edges[:-2], band_edges[1:-1], band_edges[2:]
    # Each filter rises linearly (in mel) from its lower edge to its centre, then falls.
    rising = (bins_mel - lower) / (center - lower)
    falling = (upper - bins_mel) / (upper - center)
    weights = torch.clamp(torch.minimum(rising, falling), min=0.0)
    return F.pad(weights, (0, 0, 1, 0))


class MelSpectrogram(Layer):
    """Turns audio signals into mel spectrograms: ``(..., samples)`` to
    ``(..., num_mel_bins, frames)`` with ``frames = 1 + samples // sequence_stride``.

    Each frame of ``sequence_length`` samples (default ``fft_length``), centred on sample
    ``t * sequence_stride`` of the reflect-padded signal, is windowed ("hann", "hamming",
    an array of ``sequence_length`` values, or None) and Fourier-transformed over
    ``fft_length`` points. Its magnitudes to the power ``mag_exp`` are weighted by
    ``num_mel_bins`` triangular filters between ``min_freq`` and ``max_freq`` (default
    ``sampling_rate / 2``). With ``power_to_db`` the result becomes
    ``10 * log10(max(S, min_power) / max(|ref_power|, min_power))``, floored at ``top_db``
    below its maximum; that maximum is over the whole input, the batch included, as in Keras.
    No weights; inputs are computed in float32 (float64 under a float64 policy).

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.MelSpectrogram(
    ...     num_mel_bins=64, sampling_rate=8000, sequence_stride=256, fft_length=2048
    ... )
    >>> tuple(layer(keras.random.uniform((2, 16000), seed=0)).shape)
    (2, 64, 63)
    """

    def __init__(
        self,
        fft_length: int = 2048,
        sequence_stride: int = 512,
        sequence_length: "int | None" = None,
        window: Any = "hann",
        sampling_rate: int = 16000,
        num_mel_bins: int = 128,
        min_freq: float = 20.0,
        max_freq: "float | None" = None,
        power_to_db: bool = True,
        top_db: float = 80.0,
        mag_exp: float = 2.0,
        min_power: float = 1e-10,
        ref_power: float = 1.0,
        **kwargs,
    ):
        name = "MelSpectrogram"
        _check_positive_int(name, "fft_length", fft_length)
        _check_positive_int(name, "sequence_stride", sequence_stride)
        _check_positive_int(name, "num_mel_bins", num_mel_bins)
        sequence_length = sequence_length or fft_length
        _check_positive_int(name, "sequence_length", sequence_length)
        if fft_length < sequence_length:
            raise ValueError(
                f"{name}: `fft_length` must be greater than or equal to `sequence_length`. "
                f"Received: sequence_length={sequence_length}, fft_length={fft_length}."
            )
        if isinstance(window, str) and window not in ("hann", "hamming"):
            raise ValueError(
                f'{name}: a string `window` must be one of "hann", "hamming". '
                f"Received: window={window!r}"
            )
        super().__init__(**kwargs)
        self.built = True  # no weights
        self.fft_length = fft_length
        self.sequence_stride = sequence_stride
        self.sequence_length = sequence_length
        self.window = window
        self.sampling_rate = sampling_rate
        self.num_mel_bins = num_mel_bins
        self.min_freq = min_freq
        self.max_freq = max_freq or int(sampling_rate / 2)
        self.power_to_db = power_to_db
        self.top_db = top_db
        self.mag_exp = mag_exp
        self.min_power = min_power
        self.ref_power = ref_power
        self._mel_cache: dict[tuple, torch.Tensor] = {}

    def linear_to_mel_weight_matrix(
        self,
        num_mel_bins: int = 20,
        num_spectrogram_bins: int = 129,
        sampling_rate: float = 8000,
        lower_edge_hertz: float = 125.0,
        upper_edge_hertz: float = 3800.0,
        dtype: str = "float32",
    ) -> torch.Tensor:
        """The ``(num_spectrogram_bins, num_mel_bins)`` mel filter matrix (Keras's method;
        see ``mel_weight_matrix``), in ``dtype`` on ``config.device()``."""
        matrix = mel_weight_matrix(
            num_mel_bins, num_spectrogram_bins, sampling_rate, lower_edge_hertz, upper_edge_hertz
        )
        return matrix.to(device=config.device(), dtype=to_torch_dtype(dtype))

    def _mel_matrix(self, bins: int, like: torch.Tensor) -> torch.Tensor:
        key = (bins, like.dtype, like.device)
        matrix = self._mel_cache.get(key)
        if matrix is None:
            matrix = mel_weight_matrix(
                self.num_mel_bins, bins, self.sampling_rate, self.min_freq, self.max_freq
            )
            matrix = self._mel_cache[key] = matrix.to(device=like.device, dtype=like.dtype)
        return matrix

    def _to_decibels(self, power: torch.Tensor) -> torch.Tensor:
        decibels = 10.0 * torch.log10(torch.clamp(power, min=self.min_power))
        reference = max(abs(float(self.ref_power)), self.min_power)
        decibels = decibels - 10.0 * math.log10(reference)
        return torch.maximum(decibels, decibels.max() - self.top_db)

    def call(self, inputs: Any) -> torch.Tensor:
        dtype = self.compute_dtype if self.compute_dtype in ("float32", "float64") else "float32"
        inputs = torch.as_tensor(inputs).to(to_torch_dtype(dtype))
        if inputs.ndim == 0 or inputs.shape[-1] <= self.fft_length // 2:
            raise ValueError(
                f"MelSpectrogram '{self.name}': expected audio of shape (..., samples) with "
                f"more than fft_length // 2 = {self.fft_length // 2} samples (frames are "
                f"reflect-padded by that much). Received: inputs.shape={tuple(inputs.shape)}"
            )
        real, imag = stft(
            inputs,
            self.sequence_length,
            self.sequence_stride,
            self.fft_length,
            window=self.window,
            center=True,
        )
        spectrum = torch.sqrt(real.square() + imag.square()) ** self.mag_exp
        mel = spectrum @ self._mel_matrix(spectrum.shape[-1], spectrum)
        if self.power_to_db:
            mel = self._to_decibels(mel)
        return mel.transpose(-1, -2).to(to_torch_dtype(self.compute_dtype))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        *batch, samples = tuple(input_shape)
        frames = None if samples is None else 1 + samples // self.sequence_stride
        return (*batch, self.num_mel_bins, frames)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "fft_length": self.fft_length,
            "sequence_stride": self.sequence_stride,
            "sequence_length": self.sequence_length,
            "window": _serializable_window(self.window),
            "sampling_rate": self.sampling_rate,
            "num_mel_bins": self.num_mel_bins,
            "min_freq": self.min_freq,
            "max_freq": self.max_freq,
            "power_to_db": self.power_to_db,
            "top_db": self.top_db,
            "mag_exp": self.mag_exp,
            "min_power": self.min_power,
            "ref_power": self.ref_power,
        }


_STFT_MODES = ("log", "magnitude", "psd", "real", "imag", "angle", "stft")


class STFTSpectrogram(Layer):
    """The short-time Fourier transform of each channel of ``(batch, time, channels)``
    signals (``(batch, channels, time)`` with ``data_format="channels_first"``), computed
    as a strided convolution with trainable kernels that start as the windowed transform.

    Frames of ``frame_length`` samples, ``frame_step`` apart (default ``frame_length // 2``),
    are transformed over ``fft_length`` points (default: the next power of two), giving
    ``fft_length // 2 + 1`` bins. ``window`` (a SciPy window name, an array, or None;
    ``periodic`` for the periodic form) is normalized by ``scaling``: "density" (L2 norm),
    "spectrum" (L1 norm) or None. ``padding``: "valid" (``1 + (time - frame_length) //
    frame_step`` frames) or "same" (``ceil(time / frame_step)``). ``mode``: "log" (log
    magnitude), "magnitude", "psd" (power, doubled except at DC and Nyquist), "real",
    "imag", "angle", or "stft" (real bins, then imaginary ones).

    Output: ``(batch, frames, channels * bins)``, or ``(batch, frames, bins, channels)`` with
    ``expand_dims``; channels first: ``(batch, channels * bins, frames)`` or
    ``(batch, channels, frames, bins)``. Channel ``c`` owns bins ``c * bins .. (c+1) * bins``.

    Example:
    >>> import tritonlayers as keras
    >>> layer = keras.layers.STFTSpectrogram(frame_length=256, frame_step=128, fft_length=512)
    >>> tuple(layer(keras.random.uniform((3, 16000, 1), seed=0)).shape)
    (3, 124, 257)
    """

    def __init__(
        self,
        mode: str = "log",
        frame_length: int = 256,
        frame_step: "int | None" = None,
        fft_length: "int | None" = None,
        window: Any = "hann",
        periodic: bool = False,
        scaling: "str | None" = "density",
        padding: str = "valid",
        expand_dims: bool = False,
        data_format: "str | None" = None,
        **kwargs,
    ):
        name = "STFTSpectrogram"
        _check_positive_int(name, "frame_length", frame_length)
        if frame_step is not None and (
            isinstance(frame_step, bool)
            or not isinstance(frame_step, int)
            or not 1 <= frame_step <= frame_length
        ):
            raise ValueError(
                f"{name}: `frame_step` should be a positive integer not greater than "
                f"`frame_length`. Received frame_step={frame_step!r}, "
                f"frame_length={frame_length}"
            )
        if fft_length is not None:
            _check_positive_int(name, "fft_length", fft_length)
            if fft_length < frame_length:
                raise ValueError(
                    f"{name}: `fft_length` should be not less than `frame_length`. "
                    f"Received fft_length={fft_length}, frame_length={frame_length}"
                )
            if fft_length & (fft_length - 1):
                warnings.warn(
                    f"{name}: `fft_length` is recommended to be a power of two. "
                    f"Received fft_length={fft_length}",
                    stacklevel=2,
                )
        if mode not in _STFT_MODES:
            raise ValueError(
                f"{name}: output mode is invalid, it must be one of {', '.join(_STFT_MODES)}. "
                f"Received: mode={mode!r}"
            )
        if padding not in ("valid", "same"):
            raise ValueError(
                f"{name}: padding is invalid, it should be 'valid', 'same'. "
                f"Received: padding={padding!r}"
            )
        try:  # checks `window` and `scaling`
            initializers.STFT("real", window, scaling, periodic)
        except ValueError as error:
            raise ValueError(f"{name}: {error}") from error
        super().__init__(**kwargs)
        self.mode = mode
        self.frame_length = frame_length
        self.frame_step = frame_step
        self._frame_step = frame_step or max(frame_length // 2, 1)
        self.fft_length = fft_length
        self._fft_length = fft_length or 2 ** math.ceil(math.log2(frame_length))
        self.window = window
        self.periodic = periodic
        self.scaling = scaling
        self.padding = padding
        self.expand_dims = expand_dims
        self.data_format = standardize_data_format(data_format)
        self.input_spec = InputSpec(ndim=3)

    def _sides(self) -> "tuple[str, ...]":
        """The parts the mode needs: "real" and/or "imag"."""
        return {"real": ("real",), "imag": ("imag",)}.get(self.mode, ("real", "imag"))

    def build(self, input_shape: Any) -> None:
        shape = (self.frame_length, 1, self._fft_length // 2 + 1)
        if "real" in self._sides():
            init = initializers.STFT("real", self.window, self.scaling, self.periodic)
            self.real_kernel = self.add_weight(shape, init, name="real_kernel")
        if "imag" in self._sides():
            init = initializers.STFT("imag", self.window, self.scaling, self.periodic)
            self.imag_kernel = self.add_weight(shape, init, name="imag_kernel")

    def _transform(self, inputs: torch.Tensor) -> "dict[str, torch.Tensor]":
        """The real and/or imaginary parts, each ``(batch, channels, bins, frames)``."""
        if self.data_format == "channels_last":
            inputs = inputs.transpose(1, 2)
        batch, channels, time = inputs.shape
        if self.padding == "valid" and time < self.frame_length:
            raise ValueError(
                f"STFTSpectrogram '{self.name}': with padding='valid' the signal needs at "
                f"least frame_length={self.frame_length} samples. Received {time} samples "
                f"(inputs.shape={tuple(inputs.shape)} in {self.data_format})."
            )
        signal = inputs.reshape(batch * channels, 1, time)
        if self.padding == "same":
            signal = F.pad(signal, same_padding(time, self.frame_length, self._frame_step))
        sides = self._sides()
        # Keras's kernels are (frame_length, 1, bins); torch's conv1d wants (bins, 1, taps).
        kernel = torch.cat([getattr(self, f"{side}_kernel").permute(2, 1, 0) for side in sides])
        out = F.conv1d(signal, kernel.to(signal.dtype), stride=self._frame_step)
        out = out.reshape(batch, channels, len(sides), -1, out.shape[-1])
        return {side: out[:, :, i] for i, side in enumerate(sides)}

    def _arrange(self, outputs: torch.Tensor) -> torch.Tensor:
        """``(batch, channels, bins, frames)`` to the layer's output layout."""
        batch, channels, bins, frames = outputs.shape
        if self.expand_dims:
            order = (0, 3, 2, 1) if self.data_format == "channels_last" else (0, 1, 3, 2)
            return outputs.permute(order)
        flat = outputs.reshape(batch, channels * bins, frames)
        return flat.transpose(1, 2) if self.data_format == "channels_last" else flat

    def call(self, inputs: torch.Tensor) -> torch.Tensor:
        if inputs.dtype not in (torch.float16, torch.float32, torch.float64):
            raise TypeError(
                f"STFTSpectrogram '{self.name}': invalid input type. Expected `float16`, "
                f"`float32` or `float64`. Received: input type={inputs.dtype}"
            )
        parts = self._transform(inputs)
        if self.mode in ("real", "imag"):
            return self._arrange(parts[self.mode])
        real, imag = parts["real"], parts["imag"]
        if self.mode == "angle":
            return self._arrange(torch.atan2(imag, real))
        if self.mode == "stft":
            return self._arrange(torch.cat([real, imag], dim=2))
        power = real.square() + imag.square()
        if self.mode == "psd":
            # One-sided density: every bin but DC and Nyquist also stands for its mirror.
            return self._arrange(power + F.pad(power[:, :, 1:-1], (0, 0, 1, 1)))
        magnitude = self._arrange(torch.sqrt(torch.clamp(power, min=config.epsilon())))
        if self.mode == "magnitude":
            return magnitude
        return torch.log(torch.clamp(magnitude, min=config.epsilon()))

    def compute_output_shape(self, input_shape: Any) -> tuple:
        batch, *rest = tuple(input_shape)
        time, channels = rest if self.data_format == "channels_last" else rest[::-1]
        bins = self._fft_length // 2 + 1
        if self.mode == "stft":
            bins *= 2
        frames = conv_output_length(time, self.frame_length, self.padding, self._frame_step)
        if self.expand_dims:
            if self.data_format == "channels_last":
                return (batch, frames, bins, channels)
            return (batch, channels, frames, bins)
        features = None if channels is None else channels * bins
        if self.data_format == "channels_last":
            return (batch, frames, features)
        return (batch, features, frames)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "mode": self.mode,
            "frame_length": self.frame_length,
            "frame_step": self.frame_step,
            "fft_length": self.fft_length,
            "window": _serializable_window(self.window),
            "periodic": self.periodic,
            "scaling": self.scaling,
            "padding": self.padding,
            "data_format": self.data_format,
            "expand_dims": self.expand_dims,
        }
