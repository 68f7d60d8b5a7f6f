"""Triton's Philox4x32-10 random stream, written in torch ops (the CPU twin of ``tl.rand``).

A counter-based generator maps a (seed, counter) pair to random bits with no state, so a
kernel can regenerate the same numbers in its backward pass, and the torch fallback can
reproduce what the GPU drew. This module follows ``triton/language/random.py`` exactly:

- key: the seed as a uint64, split into ``k0 = seed & 0xFFFFFFFF`` and ``k1 = seed >> 32``;
- counter: an int64 offset split into ``c0 = offset & 0xFFFFFFFF``, ``c1 = offset >> 32``,
  with ``c2 = c3 = 0``;
- ten rounds of ``c0, c1, c2, c3 = hi(B*c2) ^ c1 ^ k0, lo(B*c2), hi(A*c0) ^ c3 ^ k1,
  lo(A*c0)`` with the key raised by the Weyl constants after each round.

``randint`` is lane 0 of the four output words (``tl.randint``), ``randint4x`` all four
(``tl.randint4x``). uint32 values live in int64 tensors.

Two formulations give the same bits. On CPU tensors in eager mode the rounds run in numpy
uint64, where a 32x32-bit product is exact (it is below 2**64) and numpy's per-op overhead
is a fraction of torch's: ``keras.random.normal`` on a small batch costs tens of
microseconds instead of a millisecond. Elsewhere (CUDA, meta, torch.compile tracing, where
numpy would break the graph) torch ops run them, splitting every product into 16-bit halves
so that no intermediate leaves the int64 range. Neither reads a device seed back to the
host; a CPU seed tensor is read directly, which needs no sync.
"""

import numpy as np
import torch

_MASK32 = 0xFFFFFFFF
_ROUND_A = 0xD2511F53
_ROUND_B = 0xCD9E8D57
_KEY_A = 0x9E3779B9
_KEY_B = 0xBB67AE85
_N_ROUNDS = 10
# The largest float32 step with (2**31 - 1) * scale < 1 after rounding (Triton's constant).
_UNIFORM_SCALE = 4.6566127342e-10
_TWO_PI = 6.283185307179586
_MIN_UNIFORM = 1.0e-7


def _mul_hi_lo(constant: int, value: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """High and low 32-bit words of ``constant * value`` for uint32 operands held in int64.

    With ``constant = bh * 2**16 + bl``: ``x = value * bl`` and ``y = value * bh`` are both
    below 2**48, and ``constant * value = y * 2**16 + x``.
    """
    x = value * (constant & 0xFFFF)
    y = value * (constant >> 16)
    hi = (y + (x >> 16)) >> 16
    lo = (((y & 0xFFFF) << 16) + x) & _MASK32
    return hi, lo


def kernel_seed(seed: int | torch.Tensor, device: torch.device) -> tuple:
    """A seed as kernels take it: ``(seed_tensor, seed_int)``.

    A one-element integer tensor becomes a 0-d int64 on ``device`` (kernels load it, so
    nothing syncs with the host and torch.compile does not specialize on its value) and
    ``seed_int`` is 0. An int becomes ``(None, value)`` with the value folded into the
    signed int64 range: the same 64 key bits Triton takes from the Python int.

    Example:
    >>> kernel_seed(-1, "cpu")
    (None, -1)
    >>> kernel_seed(2**64 - 1, "cpu")
    (None, -1)
    """
    if isinstance(seed, torch.Tensor):
        if seed.dtype.is_floating_point or seed.dtype.is_complex or seed.numel() != 1:
            raise ValueError(
                "A Philox seed must be an int or an integer tensor with one element; received "
                f"a {seed.dtype} tensor of shape {tuple(seed.shape)}."
            )
        # A copy onto an accelerator is stream-ordered, so it need not block the host; a copy
        # back to the CPU must finish before torch ops read it there.
        to_accelerator = torch.device(device).type != "cpu"
        seed = seed.reshape(()).to(device=device, dtype=torch.int64, non_blocking=to_accelerator)
        return seed, 0
    if isinstance(seed, bool) or not isinstance(seed, int):
        raise TypeError(f"A Philox seed must be an int or an int64 tensor; received {seed!r}.")
    seed %= 2**64
    return None, seed - 2**64 if seed >= 2**63 else seed


def _key_words(seed: int | torch.Tensor, device: torch.device) -> tuple:
    """The two 32-bit key words ``(seed & 0xFFFFFFFF, seed >> 32)`` of a seed."""
    seed_tensor, seed_int = kernel_seed(seed, device)
    if seed_tensor is None:
        seed_int %= 2**64
        return seed_int & _MASK32, seed_int >> 32
    return seed_tensor & _MASK32, (seed_tensor >> 32) & _MASK32


def _numpy_path(offsets: torch.Tensor) -> bool:
    """Whether to run the rounds in numpy: plain CPU tensors in eager mode only (numpy inside
    a torch.compile region would break the graph, fake tensors hold no values, and tensors
    made under a torch.func transform are wrappers without storage)."""
    return (
        type(offsets) is torch.Tensor
        and offsets.device.type == "cpu"
        and not torch.compiler.is_compiling()
        and _has_storage(offsets)
    )


def _has_storage(tensor: torch.Tensor) -> bool:
    try:
        tensor.data_ptr()
    except RuntimeError:
        return False
    return True


def _numpy_randint4x(k0, k1, offsets: np.ndarray) -> list[np.ndarray]:
    """The four uint32 words (in uint64 arrays) of Philox4x32-10 at int64 ``offsets``.

    A 32x32-bit product is below 2**64, so uint64 multiplies are exact. Every op writes into
    one preallocated buffer (no allocation per op): ten ufunc calls a round. The key words
    are ints, or uint64 columns of shape ``(keys, 1)``: then the words have shape
    ``(keys, offsets.size)``, one row per key, computed in the same ufunc calls.
    """
    counters = offsets.reshape(-1).view(np.uint64)
    shift, mask = np.uint64(32), np.uint64(_MASK32)
    rows = np.shape(k0)[:1]
    c0, c1, c2, c3, product_a, product_b = np.empty((6, *rows, counters.size), dtype=np.uint64)
    np.bitwise_and(counters, mask, out=c0)
    np.right_shift(counters, shift, out=c1)
    c2.fill(0)
    c3.fill(0)
    for _ in range(_N_ROUNDS):
        np.multiply(c0, np.uint64(_ROUND_A), out=product_a)
        np.multiply(c2, np.uint64(_ROUND_B), out=product_b)
        np.right_shift(product_b, shift, out=c0)
        np.bitwise_xor(c0, c1, out=c0)
        np.bitwise_xor(c0, k0, out=c0)
        np.right_shift(product_a, shift, out=c2)
        np.bitwise_xor(c2, c3, out=c2)
        np.bitwise_xor(c2, k1, out=c2)
        np.bitwise_and(product_b, mask, out=c1)
        np.bitwise_and(product_a, mask, out=c3)
        k0 = (k0 + _KEY_A) & _MASK32
        k1 = (k1 + _KEY_B) & _MASK32
    return [c0, c1, c2, c3]


def _scalar_randint4x(k0: int, k1: int, offset: int) -> tuple[int, int, int, int]:
    """The four words at one offset in Python ints: a 1-element draw costs less this way than
    in numpy's fixed per-op overhead."""
    c0, c1, c2, c3 = offset & _MASK32, (offset >> 32) & _MASK32, 0, 0
    for _ in range(_N_ROUNDS):
        product_a, product_b = _ROUND_A * c0, _ROUND_B * c2
        c0, c1 = (product_b >> 32) ^ c1 ^ k0, product_b & _MASK32
        c2, c3 = (product_a >> 32) ^ c3 ^ k1, product_a & _MASK32
        k0 = (k0 + _KEY_A) & _MASK32
        k1 = (k1 + _KEY_B) & _MASK32
    return c0, c1, c2, c3


def _numpy_uniform(bits: np.ndarray) -> np.ndarray:
    """``uint32_to_uniform`` in numpy (same float32 operations, so the same bits)."""
    signed = bits.astype(np.uint32).view(np.int32)
    folded = signed ^ (signed >> 31)
    return folded.astype(np.float32) * np.float32(_UNIFORM_SCALE)


def _numpy_box_muller(bits1: np.ndarray, bits2: np.ndarray, sine: bool = True) -> tuple:
    """``box_muller`` of two words' uniforms in numpy float32 (the sine only if asked)."""
    u1, u2 = _numpy_uniform(bits1), _numpy_uniform(bits2)
    radius = np.sqrt(np.float32(-2.0) * np.log(np.maximum(u1, np.float32(_MIN_UNIFORM))))
    angle = np.float32(_TWO_PI) * u2
    return (radius * np.cos(angle), radius * np.sin(angle)) if sine else (radius * np.cos(angle),)


def _checked_offsets(offsets: torch.Tensor) -> torch.Tensor:
    """Integer offsets as int64 (a float or complex tensor is a caller's mistake)."""
    if offsets.dtype.is_floating_point or offsets.dtype.is_complex:
        raise TypeError(f"Philox offsets must be an integer tensor; received {offsets.dtype}.")
    return offsets.to(torch.int64)


# Counters per numpy pass: a pass's dozen uint64 temporaries (128 KiB each) stay in the L2
# cache, which makes large draws about 4x faster than one pass over the whole array.
_NUMPY_CHUNK = 16384


def _numpy_draw(seed: int | torch.Tensor, offsets: torch.Tensor, finish) -> tuple:
    """``finish(words)`` of the numpy path, as torch tensors shaped like ``offsets``.

    ``finish`` maps the four uint64 word arrays of a pass to the arrays to return (words
    come back as int64, floats as they are). The seed is an int or a CPU tensor here.
    """
    seed_tensor, seed_int = kernel_seed(seed, offsets.device)
    key = int(seed_tensor) if seed_tensor is not None else seed_int
    parts = _numpy_parts(key, offsets.contiguous().numpy().reshape(-1), finish)
    return tuple(_as_torch(part).reshape(offsets.shape) for part in parts)


def _numpy_parts(seed: int, counters: np.ndarray, finish) -> list[np.ndarray]:
    """``finish(words)`` at int64 ``counters`` (1-D), run in passes of ``_NUMPY_CHUNK``."""
    key = seed % 2**64
    k0, k1 = key & _MASK32, key >> 32
    if counters.size == 1:
        words = _scalar_randint4x(k0, k1, int(counters[0]))
        return finish([np.array([w], dtype=np.uint64) for w in words])
    if counters.size <= _NUMPY_CHUNK:
        return finish(_numpy_randint4x(k0, k1, counters))
    parts = None
    for start in range(0, counters.size, _NUMPY_CHUNK):
        stop = start + _NUMPY_CHUNK
        chunk = finish(_numpy_randint4x(k0, k1, counters[start:stop]))
        if parts is None:
            parts = [np.empty(counters.size, dtype=part.dtype) for part in chunk]
        for whole, part in zip(parts, chunk, strict=True):
            whole[start:stop] = part
    return parts


def _as_torch(part: np.ndarray) -> torch.Tensor:
    """A numpy result as a tensor: uint64 words as int64, floats as they are."""
    return torch.from_numpy(part.view(np.int64) if part.dtype == np.uint64 else part)


# The numpy finish of each distribution the kernels draw, as `randint`, `uniform` and
# `normal` below apply it.
_NUMPY_FINISH = {
    "bits": lambda words: words[:1],
    "uniform": lambda words: [_numpy_uniform(words[0])],
    "normal": lambda words: _numpy_box_muller(words[0], words[1], sine=False),
}


# The four lanes of a fill (`kernels.random_*`): words, `tl.rand4x` uniforms, or the
# `tl.randn4x` normals (cosine and sine of the Box-Muller pairs (w0, w1) and (w2, w3)).
_NUMPY_LANES = {
    "bits": lambda words: words,
    "uniform": lambda words: [_numpy_uniform(word) for word in words],
    "normal": lambda words: _numpy_box_muller(*words[:2]) + _numpy_box_muller(*words[2:]),
}


def _interleaved(lanes: list[np.ndarray], n: int) -> torch.Tensor:
    """Lanes of shape (..., counters) as one (..., n) tensor: element i is lane i % 4 of
    counter i // 4."""
    stacked = np.stack(lanes, axis=-1)
    return _as_torch(stacked.reshape(*stacked.shape[:-2], -1)[..., :n])


def host_fill(seed: int, n: int, distribution: str) -> torch.Tensor:
    """The ``n`` draws of a fill under an int ``seed`` ("bits", "uniform" or "normal"):
    element i is lane ``i % 4`` of counter ``i // 4``, computed in numpy. What
    ``kernels.random_bits/uniform/normal(n, seed)`` give on the CPU, without their tensor
    round trips (for CPU callers in eager mode).

    Example:
    >>> import torch
    >>> lanes = normal4x(7, torch.arange(2))
    >>> torch.equal(host_fill(7, 5, "normal"), torch.stack(lanes, -1).reshape(-1)[:5])
    True
    """
    counters = np.arange(-(-n // 4), dtype=np.int64)
    lanes = _numpy_parts(seed, counters, _NUMPY_LANES[distribution])
    return _interleaved(lanes, n)


def host_fill_rows(seeds: list[int], n: int, distribution: str) -> torch.Tensor:
    """``host_fill(seed, n, distribution)`` for each int seed, as the rows of one
    ``(len(seeds), n)`` tensor computed in one numpy pass: a pass costs about the same
    fixed overhead whatever its size, so small draws are cheaper made several at a time.
    Meant for ``len(seeds) * n / 4 <= _NUMPY_CHUNK`` (the pass stays in the L2 cache).

    Example:
    >>> import torch
    >>> rows = host_fill_rows([3, 4], 5, "normal")
    >>> torch.equal(rows[1], host_fill(4, 5, "normal"))
    True
    """
    keys = np.array([seed % 2**64 for seed in seeds], dtype=np.uint64).reshape(-1, 1)
    counters = np.arange(-(-n // 4), dtype=np.int64)
    words = _numpy_randint4x(keys & np.uint64(_MASK32), keys >> np.uint64(32), counters)
    return _interleaved(_NUMPY_LANES[distribution](words), n)


def randint4x(
    seed: int | torch.Tensor, offsets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """The four uint32 words of ``tl.randint4x(seed, offsets)``, as int64 tensors.

    Example:
    >>> import torch
    >>> words = randint4x(7, torch.arange(3))
    >>> len(words), words[0].shape
    (4, torch.Size([3]))
    """
    offsets = _checked_offsets(offsets)
    if _numpy_path(offsets):
        return _numpy_draw(seed, offsets, lambda words: words)
    return _torch_randint4x(*_key_words(seed, offsets.device), offsets)


def _torch_randint4x(k0, k1, offsets: torch.Tensor) -> tuple:
    """The Philox rounds in torch ops, on any device (key words as ints or 0-d tensors)."""
    c0 = offsets & _MASK32
    c1 = (offsets >> 32) & _MASK32
    c2 = torch.zeros_like(c0)
    c3 = torch.zeros_like(c0)
    for _ in range(_N_ROUNDS):
        hi_b, lo_b = _mul_hi_lo(_ROUND_B, c2)
        hi_a, lo_a = _mul_hi_lo(_ROUND_A, c0)
        c0, c1, c2, c3 = hi_b ^ c1 ^ k0, lo_b, hi_a ^ c3 ^ k1, lo_a
        k0 = (k0 + _KEY_A) & _MASK32
        k1 = (k1 + _KEY_B) & _MASK32
    return c0, c1, c2, c3


def randint(seed: int | torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """``tl.randint(seed, offsets)``: uint32 values (held in int64), one per offset.

    Example:
    >>> import torch
    >>> bits = randint(0, torch.arange(4))
    >>> bool(((bits >= 0) & (bits < 2**32)).all())
    True
    """
    offsets = _checked_offsets(offsets)
    if _numpy_path(offsets):
        return _numpy_draw(seed, offsets, _NUMPY_FINISH["bits"])[0]
    return randint4x(seed, offsets)[0]


def uint32_to_uniform(bits: torch.Tensor) -> torch.Tensor:
    """Triton's map from uint32 words to float32 in [0, 1): fold the sign, then scale."""
    signed = torch.where(bits >= 2**31, bits - 2**32, bits)
    folded = torch.where(signed < 0, -signed - 1, signed)
    return folded.to(torch.float32) * _uniform_scale(bits.device)


_SCALES: dict = {}


def _uniform_scale(device: torch.device) -> torch.Tensor:
    """The float32 scale as a tensor on `device`, made once per device: a host-to-device copy
    on every call would sync the host and cannot be captured in a CUDA graph."""
    scale = _SCALES.get(device)
    if scale is None:
        scale = torch.tensor(_UNIFORM_SCALE, dtype=torch.float32, device=device)
        if type(scale) is torch.Tensor:  # a fake one, made while tracing shapes, is not kept
            _SCALES[device] = scale
    return scale


def uniform(seed: int | torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """``tl.rand(seed, offsets)``: float32 uniforms in [0, 1), one per offset.

    Example:
    >>> import torch
    >>> u = uniform(3, torch.arange(1000))
    >>> bool(((u >= 0) & (u < 1)).all())
    True
    """
    offsets = _checked_offsets(offsets)
    if _numpy_path(offsets):
        return _numpy_draw(seed, offsets, _NUMPY_FINISH["uniform"])[0]
    return uint32_to_uniform(randint(seed, offsets))


def uniform4x(
    seed: int | torch.Tensor, offsets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``tl.rand4x(seed, offsets)``: the four words' float32 uniforms in [0, 1).

    Example:
    >>> import torch
    >>> torch.equal(uniform4x(3, torch.arange(5))[0], uniform(3, torch.arange(5)))
    True
    """
    offsets = _checked_offsets(offsets)
    if _numpy_path(offsets):
        return _numpy_draw(seed, offsets, _NUMPY_LANES["uniform"])
    return tuple(uint32_to_uniform(word) for word in randint4x(seed, offsets))


def box_muller(u1: torch.Tensor, u2: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Two float32 standard normals from two uniforms, in the order Triton returns them."""
    radius = torch.sqrt(-2.0 * torch.log(torch.clamp(u1, min=_MIN_UNIFORM)))
    angle = _TWO_PI * u2
    return radius * torch.cos(angle), radius * torch.sin(angle)


def normal(seed: int | torch.Tensor, offsets: torch.Tensor) -> torch.Tensor:
    """``tl.randn(seed, offsets)`` to float rounding: float32 standard normals.

    Example:
    >>> import torch
    >>> abs(normal(5, torch.arange(100_000)).std().item() - 1) < 0.02
    True
    """
    offsets = _checked_offsets(offsets)
    if _numpy_path(offsets):
        return _numpy_draw(seed, offsets, _NUMPY_FINISH["normal"])[0]
    words = randint4x(seed, offsets)
    return box_muller(uint32_to_uniform(words[0]), uint32_to_uniform(words[1]))[0]


def normal4x(
    seed: int | torch.Tensor, offsets: torch.Tensor
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor, torch.Tensor]:
    """``tl.randn4x(seed, offsets)`` to float rounding: four float32 normals per offset.

    Example:
    >>> import torch
    >>> [n.shape for n in normal4x(1, torch.arange(2))][0]
    torch.Size([2])
    """
    offsets = _checked_offsets(offsets)
    if _numpy_path(offsets):
        return _numpy_draw(seed, offsets, _NUMPY_LANES["normal"])
    u1, u2, u3, u4 = (uint32_to_uniform(word) for word in randint4x(seed, offsets))
    return (*box_muller(u1, u2), *box_muller(u3, u4))
