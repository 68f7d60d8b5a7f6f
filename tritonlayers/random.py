"""Seeded random numbers (Keras 3's ``keras.random``) from a counter-based Philox stream.

Every function takes ``seed=``:

- an int: the same numbers on every call with that int (Keras's rule);
- a ``SeedGenerator``: a new seed per call, drawn on the device without a host sync, so a
  layer that holds one gives reproducible, advancing randomness and ``torch.compile`` never
  recompiles for a new seed;
- None: a fresh seed from torch's global generator (``torch.manual_seed`` fixes it).

Numbers come from Triton's Philox stream: ``kernels.random_normal/uniform/bits`` fill a draw
in one kernel launch on CUDA and run the torch twin (``kernels._philox``) elsewhere. The
element at flat index ``i`` of a draw is lane ``i % 4`` of the Philox draw at counter
``i // 4`` under the seed (``tl.randn4x``, ``tl.rand4x``, ``tl.randint4x``), so the same seed
gives the same numbers on the CPU and on a GPU.

Example:
>>> import tritonlayers as keras
>>> a = keras.random.normal((2, 3), seed=7)
>>> bool((a == keras.random.normal((2, 3), seed=7)).all())
True
"""

import math
from typing import Any

import torch
from torch._subclasses.fake_tensor import FakeTensor

from . import config
from .dtype_policies import standardize_dtype, to_torch_dtype
from .kernels import _philox, random_bits, random_normal, random_uniform

__all__ = [
    "SeedGenerator",
    "beta",
    "binomial",
    "categorical",
    "dropout",
    "gamma",
    "normal",
    "randint",
    "shuffle",
    "truncated_normal",
    "uniform",
]

_MAX_SEED = 2**62


def _fresh_seed() -> int:
    """A seed from torch's global generator (host side; only when no seed was given).

    Under a symbolic trace (a functional model's `layer(keras_input)`) the draw is a fake
    tensor with no value: any seed gives the output shape, so 1 stands in for it.
    """
    draw = torch.randint(1, _MAX_SEED, (), dtype=torch.int64)
    return 1 if isinstance(draw, FakeTensor) else int(draw)


class SeedGenerator:
    """A seed whose state lives in a non-trainable int64 variable: ``[seed, counter]``.

    ``next()`` hashes the state with Philox into a new 0-d int64 seed tensor and bumps the
    counter in place, all on the state's device. A Layer that holds a SeedGenerator tracks
    its ``state`` in ``layer.variables`` (not in ``weights``), so it is saved and restored.

    Args:
        seed: the starting seed (an int); None draws one from torch's global generator.
        name: the generator's name, "seed_generator" by default; its state variable is
            "<name>_state". The default is fixed (not numbered) so that a rebuilt layer's
            variable paths match a saved file; give two generators in one layer two names.

    Example:
    >>> import tritonlayers as keras
    >>> gen = keras.random.SeedGenerator(1337)
    >>> gen.state.numpy().tolist()
    [1337, 0]
    >>> first = keras.random.uniform((3,), seed=gen)
    >>> gen.state.numpy().tolist()
    [1337, 1]
    """

    def __init__(self, seed: "int | None" = None, name: "str | None" = None, **kwargs: Any):
        from .layers.variables import Variable

        if kwargs:
            raise ValueError(f"Unrecognized keyword arguments for SeedGenerator: {sorted(kwargs)}")
        if seed is None:
            seed = _fresh_seed()
        if isinstance(seed, bool) or not isinstance(seed, int):
            raise ValueError(f"Argument `seed` must be an integer. Received: seed={seed}")
        self._initial_seed = seed
        self.name = name or "seed_generator"
        self.state = Variable(
            torch.tensor([seed % 2**63, 0], dtype=torch.int64),
            shape=(2,),
            dtype="int64",
            trainable=False,
            name=f"{self.name}_state",
        )

    @property
    def variables(self) -> list:
        """The generator's state variable, as a list (what layers track)."""
        return [self.state]

    def next(self, ordered: bool = True) -> torch.Tensor:
        """A new 0-d int64 seed tensor; advances the state in place (no host sync).

        ``ordered`` is accepted for Keras compatibility; draws are always in order.

        The seed is ``key_hi * 2**32 + counter_lo``: Philox takes its low 32 bits as the first
        key word and the high ones as the second, so each draw of one generator runs under
        its own key (the draw counter) and generators of different seeds under different
        second words (the seed's 64 bits folded to 31). Philox's rounds mix any two distinct
        keys into unrelated streams, so no hashing is needed here: on a GPU this is a few
        integer ops instead of the ~240 kernels a Philox round trip in torch ops takes.
        """
        state = self.state.detach()
        if _on_host(state):
            return torch.tensor(self._next_on_host(state))
        folded = (state[0] ^ (state[0] >> 32)) & 0x7FFFFFFF
        seed = folded * 2**32 + (state[1] & 0xFFFFFFFF)
        with torch.no_grad():
            self.state[1:2].add_(1)
        return seed.reshape(())

    def _next_on_host(self, state: torch.Tensor) -> int:
        """``next()``'s seed as an int, for a CPU state in eager mode: the same numbers in
        host ints (a CPU tensor is read without a sync; its numpy view is written in place)."""
        view = state.numpy()
        seed_value, counter = int(view[0]), int(view[1])
        view[1] = counter + 1
        return _seed_of(seed_value, counter)

    def _draw_on_host(self, n: int, distribution: str) -> torch.Tensor:
        """``fill(n, self.next())`` for a CPU state in eager mode ("bits", "uniform" or
        "normal"), as ``n`` flat values.

        A draw that repeats the previous one's size and kind is computed with the next few
        draws in one numpy pass (``_philox.host_fill_rows``), which costs less than one
        pass per draw; they wait in ``_ahead`` under the (state seed, counter) that makes
        them, so a draw is always the function of the state it is taken at. Each waiting
        draw is handed out once (a caller may change it in place); a rewound state draws
        again.
        """
        view = self.state.detach().numpy()
        seed_value, counter = int(view[0]), int(view[1])
        view[1] = counter + 1
        kind = (seed_value, n, distribution)
        ahead = self.__dict__.get("_ahead")
        if ahead is not None and ahead[0] == kind and 0 <= counter - ahead[1] < len(ahead[2]):
            draw, ahead[2][counter - ahead[1]] = ahead[2][counter - ahead[1]], None
            if draw is not None:
                return draw
        repeated = self.__dict__.get("_last_kind") == kind
        self._last_kind = kind
        counters = max(-(-n // 4), 1)  # a draw's Philox counters: four numbers each
        rows = min(_DRAWS_AHEAD, _philox._NUMPY_CHUNK // counters) if repeated else 1
        if rows < 2:
            return _philox.host_fill(_seed_of(seed_value, counter), n, distribution)
        seeds = [_seed_of(seed_value, counter + i) for i in range(rows)]
        draws = list(_philox.host_fill_rows(seeds, n, distribution).unbind(0))
        self._ahead = (kind, counter, [None, *draws[1:]])
        return draws[0]

    def get_config(self) -> dict:
        """The constructor arguments (the initial seed, not the current counter)."""
        return {"seed": self._initial_seed, "name": self.name}

    @classmethod
    def from_config(cls, config: dict) -> "SeedGenerator":
        """A generator from ``get_config()``'s dict."""
        return cls(**config)

    def __repr__(self) -> str:
        return f"<SeedGenerator name={self.name!r} seed={self._initial_seed}>"


def _on_host(state: torch.Tensor) -> bool:
    """Whether a generator state can be read and advanced in host ints: a plain CPU tensor in
    eager mode (not under torch.compile, and not a fake stand-in of a symbolic trace)."""
    return (
        type(state) is torch.Tensor
        and state.device.type == "cpu"
        and not torch.compiler.is_compiling()
    )


# How many draws of one size a CPU generator computes together (see `_draw_on_host`).
_DRAWS_AHEAD = 8


def _seed_of(state_seed: int, counter: int) -> int:
    """``SeedGenerator.next()``'s formula in Python ints (``state_seed`` as stored, int64)."""
    folded = (state_seed ^ (state_seed >> 32)) & 0x7FFFFFFF
    return folded * 2**32 + (counter & 0xFFFFFFFF)


def draw_seed(seed: Any) -> "int | torch.Tensor":
    """The Philox seed for one draw: the int itself, ``generator.next()``, a one-element int
    tensor as it is, or a fresh int for None."""
    if isinstance(seed, SeedGenerator):
        return seed.next()
    if seed is None:
        return _fresh_seed()
    if isinstance(seed, torch.Tensor) and seed.numel() == 1 and not seed.is_floating_point():
        return seed.reshape(()).to(torch.int64)
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    raise ValueError(
        "Argument `seed` must be either an integer or an instance of `SeedGenerator`. "
        f"Received: seed={seed} (of type {type(seed)})"
    )


def _shape(shape: Any) -> tuple[int, ...]:
    return (int(shape),) if isinstance(shape, int) else tuple(int(s) for s in shape)


def _fill(fill, shape: tuple[int, ...], seed: Any, device=None) -> torch.Tensor:
    """``fill(n, seed)`` (a ``kernels.random_*`` function) shaped as ``shape``: element at
    flat index i is lane i % 4 of Philox counter i // 4."""
    device = device or config.device()
    n = math.prod(shape)
    if (
        device.type == "cpu"
        and n >= 0
        and config.kernel_mode() != "triton"
        and not torch.compiler.is_compiling()
    ):
        if isinstance(seed, SeedGenerator) and _on_host(seed.state.detach()):
            return seed._draw_on_host(n, _HOST_FILLS[fill]).reshape(shape)
        host_seed = _host_seed(seed)
        if host_seed is not None:
            # What `fill` computes on the CPU, straight from numpy (no tensor round trips).
            return _philox.host_fill(host_seed, n, _HOST_FILLS[fill]).reshape(shape)
    return fill(n, draw_seed(seed), device=device).reshape(shape)


_HOST_FILLS = {random_bits: "bits", random_uniform: "uniform", random_normal: "normal"}


def _host_seed(seed: Any) -> "int | None":
    """``draw_seed(seed)`` as an int when it can be one without reading a tensor: an int or
    a fresh seed (a CPU SeedGenerator draws through ``_draw_on_host``)."""
    if seed is None:
        return _fresh_seed()
    if isinstance(seed, int) and not isinstance(seed, bool):
        return seed
    return None


def _is_number(value: Any, number: float) -> bool:
    """Whether ``value`` is the Python number ``number`` (an affine step that would not
    change the draw is skipped)."""
    return isinstance(value, (int, float)) and not isinstance(value, bool) and value == number


def _float_dtype(dtype: Any, function: str) -> torch.dtype:
    name = standardize_dtype(dtype)
    if not name.startswith(("float", "bfloat")):
        raise ValueError(
            f"`keras.random.{function}` requires a floating point `dtype`. Received: dtype={name}"
        )
    return to_torch_dtype(name)


def normal(
    shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Draws from a normal distribution with ``mean`` and ``stddev``.

    Example:
    >>> import tritonlayers as keras
    >>> tuple(keras.random.normal((2, 3), seed=1).shape)
    (2, 3)
    """
    shape = _shape(shape)
    target = _float_dtype(dtype, "normal")
    values = _fill(random_normal, shape, seed)
    if not (_is_number(mean, 0) and _is_number(stddev, 1)):
        values = values * stddev + mean
    return values.to(target)


def uniform(
    shape: Any, minval: float = 0.0, maxval: float = 1.0, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Draws uniformly from ``[minval, maxval)``.

    Example:
    >>> import tritonlayers as keras
    >>> u = keras.random.uniform((1000,), minval=2.0, maxval=3.0, seed=0)
    >>> bool(((u >= 2.0) & (u < 3.0)).all())
    True
    """
    shape = _shape(shape)
    target = _float_dtype(dtype, "uniform")
    values = _fill(random_uniform, shape, seed)
    return (values * (maxval - minval) + minval).to(target)


# Standard normal CDF at -2 and its complement: the bounds of a 2-sigma truncated normal.
_CDF_MINUS_TWO = 0.5 * math.erfc(math.sqrt(2.0))
_TRUNCATED_MASS = 1.0 - 2.0 * _CDF_MINUS_TWO


def truncated_normal(
    shape: Any, mean: float = 0.0, stddev: float = 1.0, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Normal draws restricted to within two ``stddev`` of ``mean`` (exact, by inverting the
    CDF of the truncated distribution; no rejection loop).

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.random.truncated_normal((1000,), seed=3)
    >>> bool((x.abs() <= 2.0).all())
    True
    """
    shape = _shape(shape)
    target = _float_dtype(dtype, "truncated_normal")
    u = _fill(random_uniform, shape, seed).to(torch.float64)
    probability = _CDF_MINUS_TWO + u * _TRUNCATED_MASS
    z = math.sqrt(2.0) * torch.erfinv(2.0 * probability - 1.0)
    values = torch.clamp(z, -2.0, 2.0)
    return (values * stddev + mean).to(target)


def randint(
    shape: Any, minval: int, maxval: int, dtype: Any = "int32", seed: Any = None
) -> torch.Tensor:
    """Integers drawn uniformly from ``[minval, maxval)``.

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.random.randint((100,), 0, 3, seed=0)
    >>> sorted(set(x.tolist()))
    [0, 1, 2]
    """
    name = standardize_dtype(dtype)
    if not name.startswith(("int", "uint")):
        raise ValueError(
            f"`keras.random.randint` requires an integer `dtype`. Received: dtype={name}"
        )
    shape = _shape(shape)
    span = int(maxval) - int(minval)
    if span <= 0 or span > 2**31:
        raise ValueError(
            f"randint needs minval < maxval with a range of at most 2**31; received "
            f"minval={minval}, maxval={maxval}."
        )
    bits = _fill(random_bits, shape, seed)
    # Multiply-shift: floor(bits * span / 2**32) is uniform over [0, span) for uint32 bits.
    values = int(minval) + ((bits * span) >> 32)
    return values.to(to_torch_dtype(dtype))


def dropout(inputs: Any, rate: float, noise_shape: Any = None, seed: Any = None) -> torch.Tensor:
    """Zero each entry with probability ``rate`` and scale the rest by ``1 / (1 - rate)``.

    Uses the seeded dropout kernel (``kernels.dropout``). With ``noise_shape`` (entries may
    be None for "as in inputs"), one mask of that shape is drawn and broadcast.

    Example:
    >>> import tritonlayers as keras
    >>> y = keras.random.dropout(keras.ops.ones((4, 8)), rate=0.5, noise_shape=(4, 1), seed=2)
    >>> all(len(set(row)) == 1 for row in y.tolist())
    True
    """
    from . import kernels
    from .ops import convert_to_tensor

    inputs = convert_to_tensor(inputs)
    if not 0.0 <= rate <= 1.0:
        raise ValueError(f"dropout: `rate` must be in [0, 1]. Received: rate={rate}")
    shape = _noise_shape(inputs, noise_shape)
    seed_value = draw_seed(seed)
    if shape == tuple(inputs.shape):
        return kernels.dropout(inputs, rate, seed_value)
    if rate == 1.0:
        return torch.zeros_like(inputs)
    threshold = min(round(rate * 2**32), 2**32)
    bits = _fill(random_bits, shape, seed_value, inputs.device)
    mask = (bits >= threshold).to(inputs.dtype)
    return inputs * mask * (1.0 / (1.0 - rate))


def _noise_shape(inputs: torch.Tensor, noise_shape: Any) -> tuple[int, ...]:
    if noise_shape is None:
        return tuple(inputs.shape)
    shape = tuple(inputs.shape[i] if dim is None else int(dim) for i, dim in enumerate(noise_shape))
    try:
        torch.broadcast_shapes(shape, inputs.shape)
    except RuntimeError:
        raise ValueError(
            f"dropout: noise_shape {tuple(noise_shape)} does not broadcast to the inputs' "
            f"shape {tuple(inputs.shape)}."
        ) from None
    return shape


def shuffle(x: Any, axis: int = 0, seed: Any = None) -> torch.Tensor:
    """``x`` with its entries along ``axis`` in a random order (a seeded permutation).

    Example:
    >>> import tritonlayers as keras
    >>> sorted(keras.random.shuffle(keras.ops.arange(5), seed=1).tolist())
    [0, 1, 2, 3, 4]
    """
    from .ops import convert_to_tensor

    x = convert_to_tensor(x)
    n = x.shape[axis]
    words = _philox.randint4x(draw_seed(seed), torch.arange(n, device=x.device))
    keys = (words[0] << 31) | (words[1] >> 1)
    return torch.index_select(x, axis, torch.argsort(keys, stable=True))


def categorical(
    logits: Any, num_samples: int, dtype: Any = "int32", seed: Any = None
) -> torch.Tensor:
    """``num_samples`` class indices per row of ``logits`` (batch, num_classes), drawn with
    probabilities ``softmax(logits)`` (Gumbel-max).

    Example:
    >>> import tritonlayers as keras
    >>> keras.random.categorical([[-1e9, 0.0]], 3, seed=0).tolist()
    [[1, 1, 1]]
    """
    from .ops import convert_to_tensor

    logits = convert_to_tensor(logits)
    if logits.ndim != 2:
        raise ValueError(
            "`logits` should be a 2-D tensor with shape [batch_size, num_classes]. "
            f"Received: logits.shape={tuple(logits.shape)}"
        )
    batch, classes = logits.shape
    shape = (batch, int(num_samples), classes)
    u = _fill(random_uniform, shape, seed, logits.device)
    gumbel = -torch.log(-torch.log(torch.clamp(u, min=1e-12)))
    scores = logits.float().unsqueeze(1) + gumbel
    return torch.argmax(scores, dim=-1).to(to_torch_dtype(dtype))


# Marsaglia-Tsang rounds drawn per gamma sample. Each round accepts with probability >= 0.95,
# so all rounds fail for about one sample in 10**8 (that sample keeps its last proposal).
_GAMMA_ROUNDS = 6


def _gamma_draws(seed: Any, shape: tuple[int, ...], alpha: torch.Tensor, base: int) -> torch.Tensor:
    """Gamma(alpha, 1) samples by Marsaglia-Tsang with a fixed number of proposal rounds.

    Counter layout for n = prod(shape) elements: round r of element i uses Philox counter
    ``base + r * n + i``; its four words give the proposal's normal (words 0, 1), its
    acceptance uniform (word 2) and, in round 0, the alpha < 1 boost uniform (word 3).
    """
    n = math.prod(shape)
    offsets = base + torch.arange(_GAMMA_ROUNDS * n, dtype=torch.int64, device=alpha.device)
    words = [w.reshape(_GAMMA_ROUNDS, *shape) for w in _philox.randint4x(seed, offsets)]
    uniform = [_philox.uint32_to_uniform(w).double() for w in words]
    normals = _philox.box_muller(uniform[0], uniform[1])[0]
    boosted = alpha < 1.0
    d = torch.where(boosted, alpha + 1.0, alpha).double() - 1.0 / 3.0
    v = (1.0 + normals / torch.sqrt(9.0 * d)) ** 3
    log_u = torch.log(torch.clamp(uniform[2], min=1e-300))
    log_v = torch.log(torch.clamp(v, min=1e-300))
    accept = (v > 0) & (log_u < 0.5 * normals**2 + d - d * v + d * log_v)
    first = torch.argmax(accept.to(torch.int8), dim=0, keepdim=True)
    chosen = torch.where(accept.any(0, keepdim=True), first, _GAMMA_ROUNDS - 1)
    samples = (d * torch.take_along_dim(v, chosen, dim=0)).squeeze(0)
    boost = torch.clamp(uniform[3][0], min=1e-300) ** (1.0 / alpha.double())
    return torch.where(boosted, samples * boost, samples)


def _alpha(value: Any, shape: tuple[int, ...], name: str) -> torch.Tensor:
    alpha = torch.as_tensor(value, dtype=torch.float64).to(config.device())
    if bool((alpha <= 0).any()):
        raise ValueError(f"`{name}` must be positive. Received: {name}={value}")
    return torch.broadcast_to(alpha, shape)


def gamma(shape: Any, alpha: Any, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Draws from a gamma distribution with concentration ``alpha`` and scale 1.

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.random.gamma((2, 3), alpha=2.0, seed=0)
    >>> tuple(x.shape), bool((x > 0).all())
    ((2, 3), True)
    """
    shape = _shape(shape)
    target = _float_dtype(dtype, "gamma")
    return _gamma_draws(draw_seed(seed), shape, _alpha(alpha, shape, "alpha"), 0).to(target)


def beta(shape: Any, alpha: Any, beta: Any, dtype: Any = None, seed: Any = None) -> torch.Tensor:
    """Draws from a beta distribution, as ``X / (X + Y)`` with X ~ Gamma(alpha), Y ~ Gamma(beta).

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.random.beta((4,), alpha=2.0, beta=6.0, seed=0)
    >>> bool(((x > 0) & (x < 1)).all())
    True
    """
    shape = _shape(shape)
    target = _float_dtype(dtype, "beta")
    seed_value = draw_seed(seed)
    x = _gamma_draws(seed_value, shape, _alpha(alpha, shape, "alpha"), 0)
    second_stream = _GAMMA_ROUNDS * math.prod(shape)
    y = _gamma_draws(seed_value, shape, _alpha(beta, shape, "beta"), second_stream)
    return (x / (x + y)).to(target)


# Bernoulli trials drawn per pass of binomial(); bounds its memory to this many per element.
_BINOMIAL_CHUNK = 256


def binomial(
    shape: Any, counts: Any, probabilities: Any, dtype: Any = None, seed: Any = None
) -> torch.Tensor:
    """Draws from binomial distributions: successes in ``counts`` trials of probability
    ``probabilities`` (both broadcast to ``shape``).

    Exact: every trial is drawn (trial t of element i uses Philox counter ``t * n + i``), in
    passes of 256 trials, so the cost grows with the largest count, which is read on the host.
    The counts come back in ``dtype`` (floatx by default; an integer dtype works too).

    Example:
    >>> import tritonlayers as keras
    >>> x = keras.random.binomial((4,), counts=10, probabilities=0.5, seed=0)
    >>> bool(((x >= 0) & (x <= 10)).all())
    True
    """
    shape = _shape(shape)
    target = to_torch_dtype(standardize_dtype(dtype))
    counts = torch.broadcast_to(torch.as_tensor(counts, dtype=torch.float64), shape)
    probabilities = torch.broadcast_to(torch.as_tensor(probabilities, dtype=torch.float64), shape)
    counts, probabilities = counts.to(config.device()), probabilities.to(config.device())
    if bool((counts < 0).any()) or bool(((probabilities < 0) | (probabilities > 1)).any()):
        raise ValueError("binomial needs counts >= 0 and probabilities in [0, 1].")
    seed_value = draw_seed(seed)
    n = math.prod(shape)
    successes = torch.zeros(shape, dtype=torch.float64, device=counts.device)
    largest = int(counts.max()) if n else 0
    for start in range(0, largest, _BINOMIAL_CHUNK):
        trials = min(_BINOMIAL_CHUNK, largest - start)
        offsets = start * n + torch.arange(trials * n, dtype=torch.int64, device=counts.device)
        u = _philox.uniform(seed_value, offsets).reshape(trials, *shape).double()
        index = torch.arange(start, start + trials, device=counts.device).reshape(
            trials, *([1] * len(shape))
        )
        hits = (u < probabilities) & (index < counts)
        successes = successes + hits.sum(0)
    return successes.to(target)
