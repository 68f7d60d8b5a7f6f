"""Weight initializers (Keras 3 ``keras.initializers``): classes, snake_case aliases, and
``get``/``serialize``/``deserialize``.

An initializer is called as ``initializer(shape, dtype=None)`` and returns a torch tensor
on ``config.device()``. Random ones draw through ``tritonlayers.random`` with their
``seed``: an int seed (or, when None, one drawn once at construction) gives the same values
on every call, as in Keras; pass a ``SeedGenerator`` for new values per call.

Fans follow Keras: a kernel of shape ``(*receptive_field, in, out)`` has
``fan_in = in * prod(receptive_field)`` and ``fan_out = out * prod(receptive_field)``.

Example:
>>> import tritonlayers as keras
>>> init = keras.initializers.get("glorot_uniform")
>>> tuple(init((3, 4)).shape)
(3, 4)
"""

import math
from typing import Any

import numpy as np
import torch

from . import config, random
from .dtype_policies import standardize_dtype, to_torch_dtype
from .ops import eye, full
from .saving import serialization_lib

Tensor = torch.Tensor

__all__ = [
    "Constant",
    "GlorotNormal",
    "GlorotUniform",
    "HeNormal",
    "HeUniform",
    "Identity",
    "Initializer",
    "LecunNormal",
    "LecunUniform",
    "Ones",
    "Orthogonal",
    "RandomNormal",
    "RandomUniform",
    "STFT",
    "STFTInitializer",
    "TruncatedNormal",
    "VarianceScaling",
    "Zeros",
    "compute_fans",
    "deserialize",
    "get",
    "serialize",
]


class Initializer:
    """Base class: subclasses implement ``__call__(shape, dtype=None)`` and ``get_config``.

    Example:
    >>> import tritonlayers as keras
    >>> class Fives(keras.initializers.Initializer):
    ...     def __call__(self, shape, dtype=None):
    ...         return 5.0 * keras.ops.ones(shape, dtype=dtype)
    >>> Fives()((2,)).tolist()
    [5.0, 5.0]
    """

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        raise TypeError(
            f"{type(self).__name__} must implement `__call__(self, shape, dtype=None)`."
        )

    def get_config(self) -> dict:
        """The constructor arguments, as plain values."""
        return {}

    @classmethod
    def from_config(cls, config: dict) -> "Initializer":
        """An initializer from ``get_config()``'s dict."""
        return cls(**config)

    def clone(self) -> "Initializer":
        """A new initializer with the same config."""
        return self.__class__.from_config(self.get_config())


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)


class Zeros(Initializer):
    """All zeros. Example: ``keras.initializers.Zeros()((2, 2))``."""

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        return full(_shape(shape), 0, dtype=standardize_dtype(dtype))


class Ones(Initializer):
    """All ones. Example: ``keras.initializers.Ones()((2, 2))``."""

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        return full(_shape(shape), 1, dtype=standardize_dtype(dtype))


class Constant(Initializer):
    """Every entry equal to ``value`` (a number, or anything that broadcasts to the shape).

    Example:
    >>> import tritonlayers as keras
    >>> keras.initializers.Constant(3.0)((2,)).tolist()
    [3.0, 3.0]
    """

    def __init__(self, value: Any = 0.0):
        self.value = value

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        # value * ones, as Keras computes it (a value that does not broadcast to `shape`
        # fails with torch's message, as in Keras).
        ones = full(_shape(shape), 1, dtype=standardize_dtype(dtype))
        return torch.as_tensor(self.value, dtype=ones.dtype, device=ones.device) * ones

    def get_config(self) -> dict:
        return {"value": serialization_lib.serialize_keras_object(self.value)}

    @classmethod
    def from_config(cls, config: dict) -> "Constant":
        return cls(serialization_lib.deserialize_keras_object(config["value"]))


class RandomInitializer(Initializer):
    """Shared seed handling: an int or SeedGenerator seed, or None for one drawn now."""

    def __init__(self, seed: Any = None):
        self._init_seed = seed
        if seed is None:
            seed = random.draw_seed(None)
        elif isinstance(seed, dict):
            seed = serialization_lib.deserialize_keras_object(seed)
        elif isinstance(seed, bool) or not isinstance(seed, (int, random.SeedGenerator)):
            raise ValueError(
                "`seed` argument should be an instance of `keras.random.SeedGenerator()` or an "
                f"integer. Received: seed={seed!r}"
            )
        self.seed = seed

    def get_config(self) -> dict:
        return {"seed": serialization_lib.serialize_keras_object(self._init_seed)}


def _float_dtype(dtype: Any, name: str) -> str:
    dtype = standardize_dtype(dtype)
    if not dtype.startswith(("float", "bfloat")):
        raise ValueError(f"{name} expects a floating point dtype; received dtype={dtype}.")
    return dtype


class RandomNormal(RandomInitializer):
    """Draws from a normal distribution with ``mean`` and ``stddev``.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.initializers.RandomNormal(stddev=1.0, seed=1)((2, 3)).shape)
    (2, 3)
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        dtype = _float_dtype(dtype, "RandomNormal")
        return random.normal(_shape(shape), self.mean, self.stddev, dtype=dtype, seed=self.seed)

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class TruncatedNormal(RandomInitializer):
    """Normal draws with ``mean``/``stddev``, kept within two ``stddev`` of the mean.

    Example: ``keras.initializers.TruncatedNormal(stddev=0.1, seed=0)((2, 3))``
    """

    def __init__(self, mean: float = 0.0, stddev: float = 0.05, seed: Any = None):
        self.mean = mean
        self.stddev = stddev
        super().__init__(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        dtype = _float_dtype(dtype, "TruncatedNormal")
        return random.truncated_normal(
            _shape(shape), self.mean, self.stddev, dtype=dtype, seed=self.seed
        )

    def get_config(self) -> dict:
        return {**super().get_config(), "mean": self.mean, "stddev": self.stddev}


class RandomUniform(RandomInitializer):
    """Draws uniformly from ``[minval, maxval)``.

    Example: ``keras.initializers.RandomUniform(-1.0, 1.0, seed=0)((2, 3))``
    """

    def __init__(self, minval: float = -0.05, maxval: float = 0.05, seed: Any = None):
        self.minval = minval
        self.maxval = maxval
        super().__init__(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        dtype = _float_dtype(dtype, "RandomUniform")
        return random.uniform(_shape(shape), self.minval, self.maxval, dtype=dtype, seed=self.seed)

    def get_config(self) -> dict:
        return {**super().get_config(), "minval": self.minval, "maxval": self.maxval}


def compute_fans(
    shape: Any, input_axes: "list | None" = None, output_axes: "list | None" = None
) -> tuple[int, int]:
    """Keras's ``(fan_in, fan_out)`` of a weight shape (conv kernels: ``(*rf, in, out)``).

    Given both ``input_axes`` and ``output_axes``, the fans are the products of the sizes
    on those axes instead (for kernels laid out otherwise, as in Keras 3.15).

    Example:
    >>> from tritonlayers.initializers import compute_fans
    >>> compute_fans((3, 3, 16, 32))
    (144, 288)
    >>> compute_fans((4, 8, 16), input_axes=[0], output_axes=[1, 2])
    (4, 128)
    """
    shape = _shape(shape)
    if input_axes is not None and output_axes is not None:
        return (
            math.prod(shape[axis] for axis in input_axes),
            math.prod(shape[axis] for axis in output_axes),
        )
    if len(shape) == 0:
        return 1, 1
    if len(shape) == 1:
        return shape[0], shape[0]
    receptive_field = math.prod(shape[:-2])
    return shape[-2] * receptive_field, shape[-1] * receptive_field


_MODES = ("fan_in", "fan_out", "fan_avg")
_DISTRIBUTIONS = ("truncated_normal", "untruncated_normal", "uniform")
# Standard deviation of a standard normal truncated to [-2, 2].
_TRUNCATED_STDDEV = 0.87962566103423978


class VarianceScaling(RandomInitializer):
    """Draws with variance ``scale / n``, n being the fan given by ``mode``.

    ``distribution``: "truncated_normal" (stddev corrected for the truncation),
    "untruncated_normal", or "uniform" (limit ``sqrt(3 * scale / n)``). ``input_axes`` and
    ``output_axes`` (both or neither) name the axes whose sizes make the fans.

    Example:
    >>> import tritonlayers as keras
    >>> init = keras.initializers.VarianceScaling(scale=2.0, mode="fan_in", seed=0)
    >>> tuple(init((4, 5)).shape)
    (4, 5)
    """

    def __init__(
        self,
        scale: float = 1.0,
        mode: str = "fan_in",
        distribution: str = "truncated_normal",
        seed: Any = None,
        input_axes: "list | None" = None,
        output_axes: "list | None" = None,
    ):
        if scale <= 0.0:
            raise ValueError(f"Argument `scale` must be positive float. Received: scale={scale}")
        if mode not in _MODES:
            raise ValueError(f"Invalid `mode` argument: {mode!r}. Expected one of {_MODES}.")
        distribution = distribution.lower()
        if distribution == "normal":
            distribution = "truncated_normal"
        if distribution not in _DISTRIBUTIONS:
            raise ValueError(
                f"Invalid `distribution` argument: {distribution!r}. Expected one of "
                f"{_DISTRIBUTIONS}."
            )
        self.scale = scale
        self.mode = mode
        self.distribution = distribution
        self.input_axes = input_axes
        self.output_axes = output_axes
        super().__init__(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        shape = _shape(shape)
        dtype = _float_dtype(dtype, type(self).__name__)
        fan_in, fan_out = compute_fans(shape, self.input_axes, self.output_axes)
        fan = {"fan_in": fan_in, "fan_out": fan_out, "fan_avg": (fan_in + fan_out) / 2.0}
        scale = self.scale / max(1.0, fan[self.mode])
        if self.distribution == "truncated_normal":
            stddev = math.sqrt(scale) / _TRUNCATED_STDDEV
            return random.truncated_normal(shape, 0.0, stddev, dtype=dtype, seed=self.seed)
        if self.distribution == "untruncated_normal":
            return random.normal(shape, 0.0, math.sqrt(scale), dtype=dtype, seed=self.seed)
        limit = math.sqrt(3.0 * scale)
        return random.uniform(shape, -limit, limit, dtype=dtype, seed=self.seed)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "scale": self.scale,
            "mode": self.mode,
            "distribution": self.distribution,
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class _FixedVarianceScaling(VarianceScaling):
    """A VarianceScaling whose scale, mode and distribution are fixed by the class."""

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "truncated_normal"

    def __init__(
        self, seed: Any = None, input_axes: "list | None" = None, output_axes: "list | None" = None
    ):
        super().__init__(
            self._SCALE,
            self._MODE,
            self._DISTRIBUTION,
            seed=seed,
            input_axes=input_axes,
            output_axes=output_axes,
        )

    def get_config(self) -> dict:
        return {
            "seed": serialization_lib.serialize_keras_object(self._init_seed),
            "input_axes": self.input_axes,
            "output_axes": self.output_axes,
        }


class GlorotUniform(_FixedVarianceScaling):
    """Uniform in ``[-limit, limit]``, ``limit = sqrt(6 / (fan_in + fan_out))``.

    Example: ``keras.initializers.GlorotUniform(seed=0)((3, 4))``
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_avg", "uniform"


class GlorotNormal(_FixedVarianceScaling):
    """Truncated normal with ``stddev = sqrt(2 / (fan_in + fan_out))``.

    Example: ``keras.initializers.GlorotNormal(seed=0)((3, 4))``
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_avg", "truncated_normal"


class HeUniform(_FixedVarianceScaling):
    """Uniform in ``[-limit, limit]``, ``limit = sqrt(6 / fan_in)``.

    Example: ``keras.initializers.HeUniform(seed=0)((3, 3, 8, 16))``
    """

    _SCALE, _MODE, _DISTRIBUTION = 2.0, "fan_in", "uniform"


class HeNormal(_FixedVarianceScaling):
    """Truncated normal with ``stddev = sqrt(2 / fan_in)``.

    Example: ``keras.initializers.HeNormal(seed=0)((3, 3, 8, 16))``
    """

    _SCALE, _MODE, _DISTRIBUTION = 2.0, "fan_in", "truncated_normal"


class LecunUniform(_FixedVarianceScaling):
    """Uniform in ``[-limit, limit]``, ``limit = sqrt(3 / fan_in)``.

    Example: ``keras.initializers.LecunUniform(seed=0)((3, 4))``
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "uniform"


class LecunNormal(_FixedVarianceScaling):
    """Truncated normal with ``stddev = sqrt(1 / fan_in)``.

    Example: ``keras.initializers.LecunNormal(seed=0)((3, 4))``
    """

    _SCALE, _MODE, _DISTRIBUTION = 1.0, "fan_in", "truncated_normal"


class Orthogonal(RandomInitializer):
    """A (semi-)orthogonal matrix times ``gain``: the Q of a QR decomposition of a normal
    draw, over the flattened leading axes and the last axis.

    Example:
    >>> import tritonlayers as keras
    >>> q = keras.initializers.Orthogonal(seed=0)((4, 4))
    >>> bool(keras.ops.all(keras.ops.abs(q @ q.T - keras.ops.eye(4)) < 1e-5))
    True
    """

    def __init__(self, gain: float = 1.0, seed: Any = None):
        self.gain = gain
        super().__init__(seed)

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        shape = _shape(shape)
        dtype = _float_dtype(dtype, "Orthogonal")
        if len(shape) < 2:
            raise ValueError(
                "The tensor to initialize must be at least two-dimensional. Received: "
                f"shape={shape} of rank {len(shape)}."
            )
        rows, cols = math.prod(shape[:-1]), shape[-1]
        a = random.normal((max(rows, cols), min(rows, cols)), seed=self.seed, dtype="float32")
        q, r = torch.linalg.qr(a)
        q = q * torch.sign(torch.diagonal(r))
        if rows < cols:
            q = q.T
        return (self.gain * q.reshape(shape)).to(to_torch_dtype(dtype))

    def get_config(self) -> dict:
        return {**super().get_config(), "gain": self.gain}


class Identity(Initializer):
    """``gain`` times the identity matrix (2-D shapes only; rectangular ones allowed).

    Example:
    >>> import tritonlayers as keras
    >>> keras.initializers.Identity(gain=2.0)((2, 3)).tolist()
    [[2.0, 0.0, 0.0], [0.0, 2.0, 0.0]]
    """

    def __init__(self, gain: float = 1.0):
        self.gain = gain

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        shape = _shape(shape)
        if len(shape) != 2:
            raise ValueError(
                "Identity matrix initializer can only be used for 2D matrices. Received: "
                f"shape={shape} of rank {len(shape)}."
            )
        return self.gain * eye(*shape, dtype=standardize_dtype(dtype))

    def get_config(self) -> dict:
        return {"gain": self.gain}


# Window functions of `scipy.signal.get_window` (the names and aliases Keras's STFT accepts
# from it), computed in float64 as SciPy does. Each maker takes the symmetric length `m` (> 1)
# and the window's parameter; a periodic window of length n is the symmetric one of n + 1
# without its last sample.
def _cosine_sum(m: int, coefficients: "tuple[float, ...]") -> np.ndarray:
    phase = np.linspace(-np.pi, np.pi, m)
    return sum(c * np.cos(k * phase) for k, c in enumerate(coefficients))


def _triang(m: int) -> np.ndarray:
    n = np.arange(1, (m + 1) // 2 + 1)
    if m % 2 == 0:
        half = (2 * n - 1.0) / m
        return np.concatenate([half, half[::-1]])
    half = 2 * n / (m + 1.0)
    return np.concatenate([half, half[-2::-1]])


def _bartlett(m: int) -> np.ndarray:
    n = np.arange(m)
    return np.where(n <= (m - 1) / 2.0, 2.0 * n / (m - 1), 2.0 - 2.0 * n / (m - 1))


def _tukey(m: int, alpha: float = 0.5) -> np.ndarray:
    if alpha <= 0:
        return np.ones(m)
    if alpha >= 1:
        return _cosine_sum(m, (0.5, 0.5))
    n = np.arange(m)
    width = int(np.floor(alpha * (m - 1) / 2.0))
    head = n[: width + 1]
    tail = n[m - width - 1 :]
    rise = 0.5 * (1 + np.cos(np.pi * (-1 + 2.0 * head / alpha / (m - 1))))
    fall = 0.5 * (1 + np.cos(np.pi * (-2.0 / alpha + 1 + 2.0 * tail / alpha / (m - 1))))
    return np.concatenate([rise, np.ones(m - width * 2 - 2), fall])


def _kaiser(m: int, beta: float) -> np.ndarray:
    n = np.arange(m)
    ratio = 2.0 * n / (m - 1) - 1.0
    return np.i0(beta * np.sqrt(1 - ratio**2)) / np.i0(float(beta))


_WINDOW_MAKERS = {
    "boxcar": lambda m: np.ones(m),
    "triang": _triang,
    "bartlett": _bartlett,
    "hann": lambda m: _cosine_sum(m, (0.5, 0.5)),
    "hamming": lambda m: _cosine_sum(m, (0.54, 0.46)),
    "blackman": lambda m: _cosine_sum(m, (0.42, 0.50, 0.08)),
    "cosine": lambda m: np.sin(np.pi / m * (np.arange(m) + 0.5)),
    "tukey": _tukey,
    "kaiser": _kaiser,
}
_WINDOW_ALIASES = {
    **{name: name for name in _WINDOW_MAKERS},
    **dict.fromkeys(("box", "ones", "rect", "rectangular"), "boxcar"),
    **dict.fromkeys(("triangle", "tri"), "triang"),
    **dict.fromkeys(("bart", "brt"), "bartlett"),
    "han": "hann",
    **dict.fromkeys(("hamm", "ham"), "hamming"),
    **dict.fromkeys(("black", "blk"), "blackman"),
    "halfcosine": "cosine",
    "tuk": "tukey",
    "ksr": "kaiser",
}
_WINDOW_PARAMETERS = {"tukey": 1, "kaiser": 1}  # how many parameters each may take


def _is_named(window: Any) -> bool:
    """A window name or a ``(name, parameter)`` pair (not an array of values)."""
    return isinstance(window, str) or (
        isinstance(window, (tuple, list)) and bool(window) and isinstance(window[0], str)
    )


def _window_spec(window: Any, caller: str) -> "tuple[str, tuple]":
    """A window name (or ``(name, parameter)``, a list once serialized) as its canonical name
    and parameters; a clear error for any other."""
    name, params = window, ()
    if isinstance(window, (tuple, list)) and window:
        name, params = window[0], tuple(window[1:])
    canonical = _WINDOW_ALIASES.get(name.lower()) if isinstance(name, str) else None
    if canonical is None or len(params) > _WINDOW_PARAMETERS.get(canonical, 0):
        raise ValueError(
            f"{caller}: unknown window {window!r}. Expected one of {sorted(_WINDOW_MAKERS)} "
            "(or their SciPy aliases), ('tukey', alpha), ('kaiser', beta), an array of "
            "values, or None."
        )
    if canonical == "kaiser" and not params:
        raise ValueError(
            f"{caller}: the 'kaiser' window needs its beta: pass ('kaiser', beta). "
            f"Received: window={window!r}"
        )
    return canonical, params


def get_window(window: Any, length: int, periodic: bool = False) -> np.ndarray:
    """The float64 window of ``length`` samples that ``scipy.signal.get_window(window,
    length, fftbins=periodic)`` gives, for the names ``STFT`` accepts.

    Example:
    >>> from tritonlayers.initializers import get_window
    >>> get_window("hann", 5).tolist()
    [0.0, 0.5, 1.0, 0.5, 0.0]
    """
    name, params = _window_spec(window, "get_window")
    if length <= 1:
        return np.ones(max(length, 0))
    values = _WINDOW_MAKERS[name](length + 1 if periodic else length, *params)
    return values[:length]


class STFT(Initializer):
    """Kernels of a short-time Fourier transform as a convolution (``STFTSpectrogram``'s).

    For a shape ``(frame_length, channels, bins)`` the value at ``(t, c, f)`` is
    ``cos`` (``side="real"``) or ``sin`` (``side="imag"``) of
    ``-2 * pi * t * f / (2 * (bins - 1))``, times ``window[t]`` divided by the window's L2
    norm (``scaling="density"``) or its L1 norm (``"spectrum"``), or not (None). ``window``
    is a SciPy window name (see ``get_window``), ``(name, parameter)``, an array of
    ``frame_length`` values, or None; ``periodic`` picks the periodic form of a named window.

    Example:
    >>> import tritonlayers as keras
    >>> init = keras.initializers.STFT("real", window=None)
    >>> init((3, 1, 2))[:, 0, :].tolist()
    [[1.0, 1.0], [1.0, -1.0], [1.0, 1.0]]
    """

    def __init__(
        self,
        side: str = "real",
        window: Any = "hann",
        scaling: "str | None" = "density",
        periodic: bool = False,
    ):
        if side not in ("real", "imag"):
            raise ValueError(f"STFT: `side` should be 'real' or 'imag'. Received: side={side!r}")
        if _is_named(window):
            _window_spec(window, "STFT")
        if scaling is not None and scaling not in ("density", "spectrum"):
            raise ValueError(
                "STFT: `scaling` is invalid, it must be `None`, 'density' or 'spectrum'. "
                f"Received: scaling={scaling!r}"
            )
        self.side = side
        self.window = window
        self.scaling = scaling
        self.periodic = periodic

    def _window_values(self, frame_length: int) -> "np.ndarray | None":
        window = self.window
        if window is None:
            return None
        if _is_named(window):
            return get_window(window, frame_length, self.periodic)
        values = np.asarray(
            window.detach().cpu() if isinstance(window, Tensor) else window, dtype=np.float64
        )
        if values.shape != (frame_length,):
            raise ValueError(
                "STFT: the shape of `window` must be equal to [frame_length]. Received: "
                f"window shape={values.shape}, frame_length={frame_length}"
            )
        return values

    def __call__(self, shape: Any, dtype: Any = None) -> Tensor:
        shape = _shape(shape)
        dtype = _float_dtype(dtype, "STFT")
        if len(shape) != 3:
            raise ValueError(
                "STFT: the shape must be (frame_length, input_channels, fft_length // 2 + 1). "
                f"Received: shape={shape}"
            )
        frame_length, _, bins = shape
        # float64 phases: float32 loses about 1e-4 rad at t * f ~ 1000.
        time = torch.arange(frame_length, dtype=torch.float64).reshape(-1, 1, 1)
        freq = torch.arange(bins, dtype=torch.float64).reshape(1, 1, -1) / ((bins - 1) * 2)
        phase = -2.0 * math.pi * time * freq
        kernel = torch.cos(phase) if self.side == "real" else torch.sin(phase)
        window = self._window_values(frame_length)
        if window is not None:
            window = torch.as_tensor(window).reshape(-1, 1, 1)
            if self.scaling == "density":
                window = window / window.square().sum().sqrt()
            elif self.scaling == "spectrum":
                window = window / window.abs().sum()
            kernel = kernel * window
        return kernel.expand(shape).to(device=config.device(), dtype=to_torch_dtype(dtype))

    def get_config(self) -> dict:
        window = self.window
        if isinstance(window, (np.ndarray, Tensor)):
            window = np.asarray(window.detach().cpu() if isinstance(window, Tensor) else window)
            window = window.tolist()
        elif isinstance(window, tuple):
            window = list(window)
        return {
            "side": self.side,
            "window": window,
            "periodic": self.periodic,
            "scaling": self.scaling,
        }


zeros = Zeros
ones = Ones
constant = Constant
random_normal = RandomNormal
random_uniform = RandomUniform
truncated_normal = TruncatedNormal
variance_scaling = VarianceScaling
glorot_uniform = GlorotUniform
glorot_normal = GlorotNormal
he_uniform = HeUniform
he_normal = HeNormal
lecun_uniform = LecunUniform
lecun_normal = LecunNormal
orthogonal = Orthogonal
identity = Identity
OrthogonalInitializer = Orthogonal
IdentityInitializer = Identity
stft = STFT
STFTInitializer = STFT

_ALL_OBJECTS: dict[str, type] = {
    name: obj
    for name, obj in globals().items()
    if isinstance(obj, type) and issubclass(obj, Initializer) and not name.startswith("_")
}
# Keras 3's short aliases: "uniform"/"normal" are RandomUniform(-0.05, 0.05)/RandomNormal.
_ALL_OBJECTS.update({"uniform": RandomUniform, "normal": RandomNormal, "one": Ones, "zero": Zeros})


def serialize(initializer: Initializer) -> dict:
    """The Keras config dict of an initializer.

    Example:
    >>> import tritonlayers as keras
    >>> keras.initializers.serialize(keras.initializers.Zeros())["class_name"]
    'Zeros'
    """
    return serialization_lib.serialize_keras_object(initializer)


def deserialize(config: dict, custom_objects: "dict[str, Any] | None" = None) -> Initializer:
    """The initializer a ``serialize`` result describes.

    Example: ``keras.initializers.deserialize({"class_name": "Zeros", "config": {}})``
    """
    return serialization_lib.deserialize_keras_object(
        config, custom_objects=custom_objects, module_objects=_ALL_OBJECTS
    )


def get(identifier: Any) -> "Initializer | None":
    """An initializer from a name ("glorot_uniform", "uniform", ...), a config dict, an
    instance, a class, or a callable ``f(shape, dtype)``; None stays None.

    Example:
    >>> import tritonlayers as keras
    >>> type(keras.initializers.get("he_normal")).__name__
    'HeNormal'
    """
    return serialization_lib.resolve_identifier(identifier, _ALL_OBJECTS, "initializer")
