"""Fill a tensor with Philox draws: ``tl.randint`` bits, ``tl.rand`` uniforms or ``tl.randn``
normals, in one kernel launch (what ``keras.random.normal`` and friends draw on CUDA).

Counter layout. Element ``i`` of an ``n``-element fill is drawn at Philox counter
``offset + i`` under the seed: ``tl.randint(seed, offset + i)`` (lane 0 of the four words),
``tl.rand(seed, offset + i)`` or ``tl.randn(seed, offset + i)``. This is exactly what the torch
twin ``_philox.randint/uniform/normal(seed, offset + arange(n))`` computes, so a seed gives the
same numbers on the CPU and on a GPU. Fills with the same seed are independent when their
counter ranges ``[offset, offset + n)`` do not overlap.

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
    """One program writes BLOCK_SIZE contiguous elements; element i draws at counter
    ``offset + i`` (int64, so offsets past 2**32 carry into the counter's high word).

    Writes 4 bytes (uniform, normal) or 8 bytes (bits, as int64) per element and reads
    nothing but the seed; the Philox rounds are the cost. DISTRIBUTION 0 stores
    ``tl.randint`` zero-extended to int64, 1 ``tl.rand``, 2 ``tl.randn``.
    """
    index = tl.program_id(0).to(tl.int64) * BLOCK_SIZE + tl.arange(0, BLOCK_SIZE)
    in_bounds = index < n_elements
    seed = tl.load(seed_ptr) if SEED_FROM_PTR else seed_int
    counters = offset + index
    if DISTRIBUTION == 0:
        values = tl.randint(seed, counters).to(tl.int64)
    elif DISTRIBUTION == 1:
        values = tl.rand(seed, counters)
    else:
        values = tl.randn(seed, counters)
    tl.store(out_ptr + index, values, mask=in_bounds)


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
    counters = offset + torch.arange(n, dtype=torch.int64, device=device)
    draw = {"bits": _philox.randint, "uniform": _philox.uniform, "normal": _philox.normal}
    return draw[distribution](seed, counters)


def _launch_fill(
    seed_tensor: torch.Tensor | None,
    seed_int: int,
    offset: int,
    n: int,
    distribution: str,
    device: torch.device,
) -> torch.Tensor:
    out = torch.empty(n, dtype=_DTYPES[distribution], device=device)
    if n == 0:
        return out
    block, programs, warps = launch_shape(n)
    launcher(_random_fill_kernel)[(programs,)](
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


def _fake_fill(seed_tensor, seed_int, offset, n, distribution, device):
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
    if _dispatch.use_triton(probe):
        return _fill_kernel_op(*args)
    if torch.compiler.is_compiling():
        # Opaque to the compiler, so it does not trace (or constant-fold) the Philox rounds.
        return _fill_reference_op(*args)
    return _reference_fill(*args)


def random_bits(
    n: int, seed: int | torch.Tensor, offset: int = 0, device: torch.device | str | None = None
) -> torch.Tensor:
    """``n`` uint32 words ``tl.randint(seed, offset + i)`` as an int64 tensor on ``device``.

    Args:
        n: number of elements.
        seed: an int, or an integer tensor with one element on any device (loaded by the
            kernel: no host sync, no recompilation per seed).
        offset: the first Philox counter (a Python int; may exceed 2**32).
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
    """``n`` float32 uniforms in [0, 1), ``tl.rand(seed, offset + i)``, on ``device``.

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
    """``n`` float32 standard normals, ``tl.randn(seed, offset + i)``, on ``device``.

    Arguments as for ``random_bits``.

    Example:
    >>> from tritonlayers.kernels import random_normal
    >>> z = random_normal(100_000, seed=3)
    >>> abs(z.mean().item()) < 0.02 and abs(z.std().item() - 1) < 0.02
    True
    """
    return _fill(n, seed, offset, device, "normal")
