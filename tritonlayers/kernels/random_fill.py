"""Fill a tensor with Philox draws: ``tl.randint4x`` bits, ``tl.rand4x`` uniforms or
``tl.randn4x`` normals, in one kernel launch (what ``keras.random.normal`` and friends draw on
CUDA).

Counter layout. One Philox evaluation gives four 32-bit words, so element ``i`` of an
``n``-element fill is lane ``i % 4`` of the draw at counter ``offset + i // 4`` under the seed:
``tl.randint4x(seed, offset + i // 4)[i % 4]`` (likewise ``tl.rand4x``, and ``tl.randn4x``,
whose lanes are the cosine and sine normals of two Box-Muller pairs). This is exactly what the
torch twin ``_philox.randint4x/uniform4x/normal4x(seed, offset + arange(ceil(n / 4)))``,
interleaved, computes, so a seed gives the same numbers on the CPU and on a GPU, for a
quarter of the Philox rounds of one evaluation per element. Fills with the same seed are
independent when their counter ranges ``[offset, offset + ceil(n / 4))`` do not overlap.

The seed is an int (a kernel argument) or a one-element int64 tensor that the kernel loads,
so a seed drawn on the device (``SeedGenerator.next()``) never syncs the host, the launch can
be captured in a CUDA graph, and torch.compile does not recompile for a new seed.
"""

import torch
import triton
import triton.language as tl

from . import _dispatch, _philox
from .dropout import launch_shape, launcher, philox_seed, register_twins

# What a fill draws, by the name the public functions pass; the value is the kernel's code.
DISTRIBUTIONS = {"bits": 0, "uniform": 1, "normal": 2}
_DTYPES = {"bits": torch.int64, "uniform": torch.float32, "normal": torch.float32}


@triton.jit
def _random_fill_kernel(
    out_ptr,
    n_elements,
    seed_ptr,
    seed_int,
    offset,
    DISTRIBUTION: tl.constexpr,
    SEED_FROM_PTR: tl.constexpr,
    BLOCK_SIZE: tl.constexpr,
):
    """One program writes BLOCK_SIZE contiguous elements from BLOCK_SIZE // 4 Philox
    evaluations; element i is lane i % 4 at counter ``offset + i // 4`` (int64, so counters
    past 2**32 carry into the high word).

    Writes 4 bytes (uniform, normal) or 8 bytes (bits, as int64) per element and reads
    nothing but the seed; the Philox rounds are the cost. DISTRIBUTION 0 stores
    ``tl.randint4x`` words zero-extended to int64, 1 ``tl.rand4x``, 2 ``tl.randn4x``.
    """
    quads = tl.program_id(0).to(tl.int64) * (BLOCK_SIZE // 4) + tl.arange(0, BLOCK_SIZE // 4)
    seed = tl.load(seed_ptr) if SEED_FROM_PTR else seed_int
    counters = offset + quads
    if DISTRIBUTION == 0:
        w0, w1, w2, w3 = tl.randint4x(seed, counters)
        v0, v1, v2, v3 = w0.to(tl.int64), w1.to(tl.int64), w2.to(tl.int64), w3.to(tl.int64)
    elif DISTRIBUTION == 1:
        v0, v1, v2, v3 = tl.rand4x(seed, counters)
    else:
        v0, v1, v2, v3 = tl.randn4x(seed, counters)
    index = quads * 4
    tl.store(out_ptr + index, v0, mask=index < n_elements)
    tl.store(out_ptr + index + 1, v1, mask=index + 1 < n_elements)
    tl.store(out_ptr + index + 2, v2, mask=index + 2 < n_elements)
    tl.store(out_ptr + index + 3, v3, mask=index + 3 < n_elements)


# The twin of each distribution: four lanes per Philox counter, as the kernel draws them.
_LANES = {"bits": _philox.randint4x, "uniform": _philox.uniform4x, "normal": _philox.normal4x}


def _reference_fill(
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
    n: int,
    distribution: str,
    device: torch.device,
) -> torch.Tensor:
    """The torch twin of the kernel (the CPU path and the tests' oracle)."""
    seed = philox_seed(seed_tensor, seed_int)
    counters = offset + torch.arange(triton.cdiv(n, 4), dtype=torch.int64, device=device)
    lanes = _LANES[distribution](seed, counters)
    return torch.stack(lanes, dim=-1).reshape(-1)[:n]


def _launch_fill(
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
    n: int,
    distribution: str,
    device: torch.device,
    traceable: bool = True,
) -> torch.Tensor:
    out = torch.empty(n, dtype=_DTYPES[distribution], device=device)
    if n == 0:
        return out
    block, programs, warps = launch_shape(n)
    launcher(_random_fill_kernel, traceable)[(programs,)](
        out,
        n,
        seed_tensor if seed_tensor is not None else out,
        seed_int,
        offset,
        DISTRIBUTION=DISTRIBUTIONS[distribution],
        SEED_FROM_PTR=seed_tensor is not None,
        BLOCK_SIZE=block,
        num_warps=warps,
    )
    return out


def _fake_fill(seed_tensor, seed_int, offset, n, distribution, device, traceable=True):
    return torch.empty(n, dtype=_DTYPES[distribution], device=device)


_fill_kernel_op, _fill_reference_op = register_twins(
    "random_fill", _launch_fill, _reference_fill, _fake_fill
)


def _fill(n: int, seed: int | torch.Tensor, offset: int, device, distribution: str) -> torch.Tensor:
    if isinstance(n, bool) or not isinstance(n, int) or n < 0:
        raise ValueError(f"kernels.random_{distribution} expects a count n >= 0; received {n!r}.")
    device = torch.device(device) if device is not None else torch.device("cpu")
    seed_tensor, seed_int = _philox.kernel_seed(seed, device)
    args = (seed_tensor, seed_int, int(offset), n, distribution, device)
    probe = seed_tensor if seed_tensor is not None else torch.empty(0, device=device)
    triton = _dispatch.use_triton(probe)
    if torch.compiler.is_compiling():
        # The reference op is opaque to the compiler, so it does not trace (or constant-fold)
        # the Philox rounds.
        return (_fill_kernel_op if triton else _fill_reference_op)(*args)
    # Eager calls skip the op dispatcher, whose host cost exceeds a small fill's GPU time.
    return _launch_fill(*args, traceable=False) if triton else _reference_fill(*args)


def random_bits(
    n: int, seed: int | torch.Tensor, offset: int = 0, device: torch.device | str | None = None
) -> torch.Tensor:
    """``n`` uint32 words as an int64 tensor on ``device``: element i is
    ``tl.randint4x(seed, offset + i // 4)[i % 4]``.

    Args:
        n: number of elements.
        seed: an int, or an integer tensor with one element on any device (loaded by the
            kernel: no host sync, no recompilation per seed).
        offset: the first Philox counter (a Python int; may exceed 2**32); a fill uses
            counters ``offset`` to ``offset + ceil(n / 4) - 1``.
        device: where the result lives (CPU when None).

    Example:
    >>> from tritonlayers.kernels import random_bits
    >>> bits = random_bits(5, seed=1)
    >>> bits.dtype, bool(((bits >= 0) & (bits < 2**32)).all())
    (torch.int64, True)
    """
    return _fill(n, seed, offset, device, "bits")


def random_uniform(
    n: int, seed: int | torch.Tensor, offset: int = 0, device: torch.device | str | None = None
) -> torch.Tensor:
    """``n`` float32 uniforms in [0, 1) on ``device``: element i is
    ``tl.rand4x(seed, offset + i // 4)[i % 4]``.

    Arguments as for ``random_bits``.

    Example:
    >>> from tritonlayers.kernels import random_uniform
    >>> u = random_uniform(1000, seed=2)
    >>> bool(((u >= 0) & (u < 1)).all())
    True
    """
    return _fill(n, seed, offset, device, "uniform")


def random_normal(
    n: int, seed: int | torch.Tensor, offset: int = 0, device: torch.device | str | None = None
) -> torch.Tensor:
    """``n`` float32 standard normals on ``device``: element i is
    ``tl.randn4x(seed, offset + i // 4)[i % 4]``.

    Arguments as for ``random_bits``.

    Example:
    >>> from tritonlayers.kernels import random_normal
    >>> z = random_normal(100_000, seed=3)
    >>> abs(z.mean().item()) < 0.02 and abs(z.std().item() - 1) < 0.02
    True
    """
    return _fill(n, seed, offset, device, "normal")
