"""Fourier transforms and framing of ``keras.ops``: fft, rfft, stft and their inverses.

Keras passes complex values as a ``(real, imag)`` pair of float tensors of one shape: the
transforms take such pairs and return them (``rfft`` takes a real tensor, ``irfft`` and
``istft`` return one). They act on the last axis (the last two for ``fft2``/``ifft2``).

Example:
>>> import tritonlayers as keras
>>> real, imag = keras.ops.fft(([1.0, 2.0], [0.0, 1.0]))
>>> real.tolist(), imag.tolist()
([3.0, -1.0], [1.0, -1.0])
"""

from typing import Any

import torch
import torch.nn.functional as F

from ._utils import tensor

Tensor = torch.Tensor

__all__ = ["extract_sequences", "fft", "fft2", "ifft2", "irfft", "istft", "rfft", "stft"]


def _complex(x: Any) -> Tensor:
    """The complex tensor of a ``(real, imag)`` pair of float tensors of one shape."""
    if not isinstance(x, (tuple, list)) or len(x) != 2:
        raise ValueError(
            f"Input `x` should be a tuple of two tensors - real and imaginary. Received: x={x}"
        )
    real, imag = tensor(x[0]), tensor(x[1])
    if real.shape != imag.shape:
        raise ValueError(
            "Input `x` should be a tuple of two tensors - real and imaginary. Both the real "
            "and imaginary parts should have the same shape. Received: "
            f"x[0].shape = {tuple(real.shape)}, x[1].shape = {tuple(imag.shape)}"
        )
    if not (real.is_floating_point() and imag.is_floating_point()):
        raise ValueError(
            "At least one tensor in input `x` is not of type float. Received dtypes: "
            f"x[0].dtype = {real.dtype}, x[1].dtype = {imag.dtype}"
        )
    return torch.complex(real, imag.to(real.device))


def _parts(z: Tensor) -> tuple[Tensor, Tensor]:
    return z.real, z.imag


def _check_rank(z: Tensor, rank: int) -> None:
    if z.ndim < rank:
        raise ValueError(
            f"Input should have rank >= {rank}. Received: input.shape = {tuple(z.shape)}"
        )


def fft(x: Any) -> tuple[Tensor, Tensor]:
    """The discrete Fourier transform along the last axis of a ``(real, imag)`` pair.

    Example:
    >>> import tritonlayers as keras
    >>> real, imag = keras.ops.fft(([1.0, 0.0, 0.0, 0.0], [0.0, 0.0, 0.0, 0.0]))
    >>> real.tolist(), imag.tolist()
    ([1.0, 1.0, 1.0, 1.0], [0.0, 0.0, 0.0, 0.0])
    """
    z = _complex(x)
    _check_rank(z, 1)
    return _parts(torch.fft.fft(z, dim=-1))


def fft2(x: Any) -> tuple[Tensor, Tensor]:
    """The 2D discrete Fourier transform over the last two axes of a ``(real, imag)`` pair.

    Example:
    >>> import tritonlayers as keras
    >>> real, imag = keras.ops.fft2(([[1.0, 2.0], [2.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]]))
    >>> real.tolist(), imag.tolist()
    ([[6.0, 0.0], [0.0, -2.0]], [[2.0, 0.0], [0.0, -2.0]])
    """
    z = _complex(x)
    _check_rank(z, 2)
    return _parts(torch.fft.fft2(z, dim=(-2, -1)))


def ifft2(x: Any) -> tuple[Tensor, Tensor]:
    """The inverse of ``fft2`` (scaled by ``1 / (rows * cols)``), on a ``(real, imag)`` pair.

    Example:
    >>> import tritonlayers as keras
    >>> real, imag = keras.ops.ifft2(([[6.0, 0.0], [0.0, -2.0]], [[2.0, 0.0], [0.0, -2.0]]))
    >>> real.tolist(), imag.tolist()
    ([[1.0, 2.0], [2.0, 1.0]], [[0.0, 1.0], [1.0, 0.0]])
    """
    z = _complex(x)
    _check_rank(z, 2)
    return _parts(torch.fft.ifft2(z, dim=(-2, -1)))


def rfft(x: Any, fft_length: "int | None" = None) -> tuple[Tensor, Tensor]:
    """The ``fft_length // 2 + 1`` non-negative-frequency terms of the Fourier transform of
    a real signal along the last axis, as ``(real, imag)``. The signal is cropped or
    zero-padded to ``fft_length`` (default: its length) first.

    Example:
    >>> import tritonlayers as keras
    >>> real, imag = keras.ops.rfft([0.0, 1.0, 2.0, 3.0])
    >>> real.tolist(), imag.tolist()
    ([6.0, -2.0, -2.0], [0.0, 2.0, 0.0])
    """
    x = tensor(x)
    _check_rank(x, 1)
    return _parts(torch.fft.rfft(x, n=fft_length, dim=-1))


def irfft(x: Any, fft_length: "int | None" = None) -> Tensor:
    """The real signal of length ``fft_length`` (default ``2 * (bins - 1)``) whose ``rfft``
    is the ``(real, imag)`` pair ``x``; the bins are cropped or zero-padded to
    ``fft_length // 2 + 1`` first.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.irfft(([6.0, -2.0, -2.0], [0.0, 2.0, 0.0])).tolist()
    [0.0, 1.0, 2.0, 3.0]
    """
    z = _complex(x)
    _check_rank(z, 1)
    return torch.fft.irfft(z, n=fft_length, dim=-1)


def extract_sequences(x: Any, sequence_length: int, sequence_stride: int) -> Tensor:
    """The windows of ``sequence_length`` samples, ``sequence_stride`` apart, along the last
    axis: shape ``(..., 1 + (n - sequence_length) // sequence_stride, sequence_length)``.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.extract_sequences([1, 2, 3, 4, 5], 3, 2).tolist()
    [[1, 2, 3], [3, 4, 5]]
    """
    x = tensor(x)
    _check_rank(x, 1)
    return x.unfold(-1, int(sequence_length), int(sequence_stride)).clone()


def _check_stride(sequence_stride: Any) -> None:
    if (
        isinstance(sequence_stride, bool)
        or not isinstance(sequence_stride, int)
        or sequence_stride <= 0
    ):
        raise ValueError(
            "`sequence_stride` must be a positive integer. "
            f"Received: sequence_stride={sequence_stride}"
        )


def _window(window: Any, sequence_length: int, like: Tensor) -> "Tensor | None":
    """The analysis window: "hann"/"hamming" (periodic), a tensor of ``sequence_length``
    values, or None (no windowing)."""
    if window is None:
        return None
    if isinstance(window, str):
        makers = {"hann": torch.hann_window, "hamming": torch.hamming_window}
        if window not in makers:
            raise ValueError(
                'If a string is passed to `window`, it must be one of `"hann"`, `"hamming"`. '
                f"Received: window={window}"
            )
        return makers[window](sequence_length, periodic=True, dtype=like.dtype, device=like.device)
    win = tensor(window).to(device=like.device, dtype=like.dtype)
    if win.ndim != 1 or win.shape[0] != sequence_length:
        raise ValueError(
            "The shape of `window` must be equal to [sequence_length]. "
            f"Received: window shape={tuple(win.shape)}"
        )
    return win


def stft(
    x: Any,
    sequence_length: int,
    sequence_stride: int,
    fft_length: int,
    window: Any = "hann",
    center: bool = True,
) -> tuple[Tensor, Tensor]:
    """The short-time Fourier transform along the last axis: the ``rfft`` (``fft_length``
    points) of each windowed frame of ``sequence_length`` samples, ``sequence_stride``
    apart, as ``(real, imag)`` of shape ``(..., frames, fft_length // 2 + 1)``.

    ``window`` is "hann", "hamming" (periodic), a tensor of ``sequence_length`` values or
    None. With ``center`` the signal is reflect-padded by ``fft_length // 2`` on both sides,
    so frame ``t`` is centred on sample ``t * sequence_stride``.

    Example:
    >>> import tritonlayers as keras
    >>> real, imag = keras.ops.stft([0.0, 1.0, 2.0, 3.0, 4.0], 2, 2, 4, center=False)
    >>> real.tolist(), imag.tolist()
    ([[2.0, -2.0, 2.0]], [[0.0, 0.0, 0.0]])
    """
    _check_stride(sequence_stride)
    x = tensor(x)
    if x.dtype not in (torch.float32, torch.float64):
        raise TypeError(
            f"Invalid input type. Expected `float32` or `float64`. Received: input type={x.dtype}"
        )
    if fft_length < sequence_length:
        raise ValueError(
            "`fft_length` must equal or larger than `sequence_length`. Received: "
            f"sequence_length={sequence_length}, fft_length={fft_length}"
        )
    win = _window(window, sequence_length, x)
    if win is None:
        win = torch.ones(sequence_length, dtype=x.dtype, device=x.device)
    batch_shape, samples = x.shape[:-1], x.shape[-1]
    spectrum = torch.stft(
        x.reshape(-1, samples),
        n_fft=fft_length,
        hop_length=sequence_stride,
        win_length=sequence_length,
        window=win,
        center=center,
        return_complex=True,
    )
    # torch gives (batch, bins, frames); Keras's layout is (..., frames, bins).
    spectrum = spectrum.transpose(-2, -1)
    spectrum = spectrum.reshape(*batch_shape, *spectrum.shape[-2:])
    return _parts(spectrum)


def _check_overlap(stride: int, length: int, count: int) -> None:
    """Keras's limits on the stride for overlap-adding ``count`` frames of ``length``."""
    if stride > length:
        raise ValueError(
            f"`sequence_stride` must equal or less than x.shape[-1]. Received: "
            f"sequence_stride={stride}, x.shape[-1]={length}"
        )
    if stride < length / count:
        raise ValueError(
            "`sequence_stride` must equal or greater than x.shape[-1] / x.shape[-2]. Received: "
            f"sequence_stride={stride}, x.shape[-1]={length}, x.shape[-2]={count}"
        )


def _overlap_add(frames: Tensor, stride: int) -> Tensor:
    """Frames ``(..., n, length)`` summed at offsets ``0, stride, 2 * stride, ...``."""
    *batch, count, length = frames.shape
    size = stride * (count - 1) + length
    columns = frames.reshape(-1, count, length).transpose(1, 2)  # (batch, length, count)
    summed = F.fold(columns, output_size=(1, size), kernel_size=(1, length), stride=(1, stride))
    return summed.reshape(*batch, size)


def _check_nola(envelope: Tensor) -> None:
    """Raise where the squared window's overlap-add vanishes: the signal cannot be recovered
    there. Reads one value on the host; skipped while shapes are traced (fake tensors)."""
    if type(envelope) is not torch.Tensor or not envelope.numel():
        return
    lowest = float(envelope.detach().abs().min())
    if lowest < 1e-11:
        raise ValueError(
            f"istft: the overlap-add of the squared window falls to {lowest:.3g}, so the "
            "signal cannot be recovered (the window and `sequence_stride` must satisfy the "
            "NOLA condition)."
        )


def _istft_centered(z: Tensor, win: Tensor, stride: int, length: "int | None") -> Tensor:
    """Inverse STFT for full-length windows and centred frames, as ``torch.istft``: the
    windowed frames overlap-added, divided by the overlap-add of the squared window."""
    count, n_fft = z.shape[-2], win.shape[0]
    signal = _overlap_add(torch.fft.irfft(z, n=n_fft, dim=-1) * win, stride)
    envelope = _overlap_add(win.square().expand(count, n_fft), stride)
    start = n_fft // 2
    end = start + length if length is not None else signal.shape[-1] - start
    envelope = envelope[start:end]
    _check_nola(envelope)
    signal = signal[..., start:end] / envelope
    if length is not None and signal.shape[-1] < length:
        signal = F.pad(signal, (0, length - signal.shape[-1]))
    return signal


def _synthesis_window(
    win: Tensor, sequence_length: int, sequence_stride: int, fft_length: int
) -> Tensor:
    """The analysis window, centred in ``fft_length`` samples and divided by the sum of the
    squares of its copies shifted by multiples of the stride (perfect reconstruction where
    all overlapping frames are present)."""
    left = (fft_length - sequence_length) // 2
    win = F.pad(win, (left, fft_length - sequence_length - left))
    shifts = -(-fft_length // sequence_stride)
    squares = F.pad(win.square(), (0, shifts * sequence_stride - fft_length))
    per_phase = squares.reshape(shifts, sequence_stride).sum(0)
    return win / per_phase.repeat(shifts)[:fft_length]


def istft(
    x: Any,
    sequence_length: int,
    sequence_stride: int,
    fft_length: int,
    length: "int | None" = None,
    window: Any = "hann",
    center: bool = True,
) -> Tensor:
    """The signal whose ``stft`` (same arguments) is the ``(real, imag)`` pair ``x``:
    inverse ``rfft`` of each frame, windowed, overlap-added and normalized by the window's
    squared overlap. ``length`` crops the result to that many samples.

    Example:
    >>> import tritonlayers as keras
    >>> signal = keras.ops.arange(8, dtype="float32")
    >>> spectrum = keras.ops.stft(signal, 4, 2, 4)
    >>> [round(v, 4) for v in keras.ops.istft(spectrum, 4, 2, 4, length=8).tolist()]
    [0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0]
    """
    _check_stride(sequence_stride)
    z = _complex(x)
    _check_rank(z, 2)
    win = _window(window, sequence_length, z.real)
    if sequence_length == fft_length and center and win is not None:
        return _istft_centered(z, win, sequence_stride, length)
    frames = torch.fft.irfft(z, n=fft_length, dim=-1)
    _check_overlap(sequence_stride, fft_length, frames.shape[-2])
    if win is not None:
        frames = frames * _synthesis_window(win, sequence_length, sequence_stride, fft_length)
    signal = _overlap_add(frames, sequence_stride)
    start = fft_length // 2 if center else 0
    if length is not None:
        return signal[..., start : start + length]
    end = signal.shape[-1] - start
    return signal[..., start:end]
