"""Training speed of the guide's VAE (784-64-32, batch 64): `fit` against three baselines.

Each contender runs the same number of Adam steps (lr 1e-3, epsilon 1e-7) on the same
MNIST-shaped data, with the same loss (mean squared error + the guide's KL term):
- `tritonlayers`: the guide's code with `import tritonlayers as keras`, trained by `fit`
  (on CUDA its step replays as a CUDA graph; `tritonlayers_eager` is `jit_compile=False`);
- `torch_eager`: a hand-written torch loop over `nn.Linear` layers, data already on the
  device and batched by index (the fastest plain loop, no DataLoader);
- `torch_compile`: the same loop with the forward pass and loss under `torch.compile`;
- `keras3`: Keras 3 with the torch backend, when `keras` is installed.

Each contender trains a warm-up epoch of `VAE_BENCH_STEPS` steps (default 300 on CPU, 1000
on CUDA; it also absorbs compilation), then `VAE_BENCH_ROUNDS` timed epochs (default 5). The
module's `report` fixture prints steps/s and the ratios, and writes them to
`benchmarks/results/vae_training_<device>.json`.

Run: `python -m pytest benchmarks/test_vae_training.py -q -s`.
"""

import json
import os
import pathlib
import time

import numpy as np
import pytest
import torch
from torch import nn

import tritonlayers

DEVICE = tritonlayers.config.device()
STEPS = int(os.environ.get("VAE_BENCH_STEPS", 1000 if DEVICE.type == "cuda" else 300))
# Timed epochs per contender; the median gives steps/s.
ROUNDS = int(os.environ.get("VAE_BENCH_ROUNDS", 5))
BATCH = 64
ORIGINAL_DIM, INTERMEDIATE_DIM, LATENT_DIM = 784, 64, 32
RESULTS: dict = {}


def _synthetic_digits(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return (rng.random((n, ORIGINAL_DIM), dtype=np.float32) ** 4).astype("float32")


X = _synthetic_digits(STEPS * BATCH)


def _synchronize() -> None:
    if DEVICE.type == "cuda":
        torch.cuda.synchronize()


def _record(name: str, benchmark, seconds_per_round: float) -> None:
    """Steps/s into RESULTS and the benchmark's extra_info (which reaches bench.json), with
    how many times faster `fit` ran when this is a baseline."""
    RESULTS[name] = STEPS / seconds_per_round
    benchmark.extra_info["steps_per_second"] = round(RESULTS[name], 1)
    benchmark.extra_info["device"] = str(DEVICE)
    if name != "tritonlayers" and "tritonlayers" in RESULTS:
        benchmark.extra_info["fit_speedup"] = round(RESULTS["tritonlayers"] / RESULTS[name], 2)


def guide_vae(keras, **compile_kwargs):
    """The guide's VariationalAutoEncoder, written against the `keras` module given."""
    layers, ops = keras.layers, keras.ops

    class Sampling(layers.Layer):
        def __init__(self, **kwargs):
            super().__init__(**kwargs)
            self.seed_generator = keras.random.SeedGenerator(1337)

        def call(self, inputs):
            z_mean, z_log_var = inputs
            batch, dim = ops.shape(z_mean)[0], ops.shape(z_mean)[1]
            epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
            return z_mean + ops.exp(0.5 * z_log_var) * epsilon

    class Encoder(layers.Layer):
        def __init__(self, latent_dim=32, intermediate_dim=64, name="encoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_mean = layers.Dense(latent_dim)
            self.dense_log_var = layers.Dense(latent_dim)
            self.sampling = Sampling()

        def call(self, inputs):
            x = self.dense_proj(inputs)
            z_mean = self.dense_mean(x)
            z_log_var = self.dense_log_var(x)
            z = self.sampling((z_mean, z_log_var))
            return z_mean, z_log_var, z

    class Decoder(layers.Layer):
        def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
            super().__init__(name=name, **kwargs)
            self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
            self.dense_output = layers.Dense(original_dim, activation="sigmoid")

        def call(self, inputs):
            return self.dense_output(self.dense_proj(inputs))

    class VariationalAutoEncoder(keras.Model):
        def __init__(
            self, original_dim, intermediate_dim=64, latent_dim=32, name="autoencoder", **kwargs
        ):
            super().__init__(name=name, **kwargs)
            self.original_dim = original_dim
            self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
            self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

        def call(self, inputs):
            z_mean, z_log_var, z = self.encoder(inputs)
            reconstructed = self.decoder(z)
            kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
            self.add_loss(kl_loss)
            return reconstructed

    vae = VariationalAutoEncoder(ORIGINAL_DIM, INTERMEDIATE_DIM, LATENT_DIM)
    vae.compile(
        keras.optimizers.Adam(learning_rate=1e-3),
        loss=keras.losses.MeanSquaredError(),
        **compile_kwargs,
    )
    return vae


class TorchVAE(nn.Module):
    """The same VAE in plain torch."""

    def __init__(self):
        super().__init__()
        self.enc_proj = nn.Linear(ORIGINAL_DIM, INTERMEDIATE_DIM)
        self.enc_mean = nn.Linear(INTERMEDIATE_DIM, LATENT_DIM)
        self.enc_log_var = nn.Linear(INTERMEDIATE_DIM, LATENT_DIM)
        self.dec_proj = nn.Linear(LATENT_DIM, INTERMEDIATE_DIM)
        self.dec_out = nn.Linear(INTERMEDIATE_DIM, ORIGINAL_DIM)

    def forward(self, x):
        h = torch.relu(self.enc_proj(x))
        z_mean, z_log_var = self.enc_mean(h), self.enc_log_var(h)
        z = z_mean + torch.exp(0.5 * z_log_var) * torch.randn_like(z_mean)
        reconstructed = torch.sigmoid(self.dec_out(torch.relu(self.dec_proj(z))))
        kl = -0.5 * torch.mean(z_log_var - z_mean.square() - z_log_var.exp() + 1)
        return reconstructed, kl


def _torch_loop(compiled: bool):
    model = TorchVAE().to(DEVICE)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3, eps=1e-7)
    data = torch.as_tensor(X, device=DEVICE)

    def loss_fn(batch):
        reconstructed, kl = model(batch)
        return torch.mean((reconstructed - batch) ** 2) + kl

    step_loss = torch.compile(loss_fn) if compiled else loss_fn

    def epoch():
        for index in torch.randperm(data.shape[0], device=DEVICE).split(BATCH):
            loss = step_loss(data.index_select(0, index))
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()

    return epoch


def _bench(name: str, benchmark, epoch) -> None:
    """Warm up once, then time `ROUNDS` epochs; the median gives steps/s."""

    def run():
        epoch()
        _synchronize()

    run()
    seconds = []

    def timed():
        start = time.perf_counter()
        run()
        seconds.append(time.perf_counter() - start)

    benchmark.pedantic(timed, rounds=ROUNDS, iterations=1)
    _record(name, benchmark, float(np.median(seconds)))


def test_tritonlayers_fit(benchmark):
    vae = guide_vae(tritonlayers)
    _bench("tritonlayers", benchmark, lambda: vae.fit(X, X, epochs=1, batch_size=BATCH, verbose=0))


@pytest.mark.skipif(DEVICE.type != "cuda", reason="same as the default fit off CUDA")
def test_tritonlayers_fit_without_cuda_graphs(benchmark):
    vae = guide_vae(tritonlayers, jit_compile=False)
    _bench(
        "tritonlayers_eager",
        benchmark,
        lambda: vae.fit(X, X, epochs=1, batch_size=BATCH, verbose=0),
    )


def test_torch_eager_loop(benchmark):
    _bench("torch_eager", benchmark, _torch_loop(compiled=False))


def test_torch_compile_loop(benchmark):
    _bench("torch_compile", benchmark, _torch_loop(compiled=True))


def test_keras3_fit(benchmark):
    os.environ["KERAS_BACKEND"] = "torch"
    keras = pytest.importorskip("keras")
    if keras.backend.backend() != "torch":
        pytest.skip("keras was imported earlier with another backend")
    vae = guide_vae(keras)
    _bench("keras3", benchmark, lambda: vae.fit(X, X, epochs=1, batch_size=BATCH, verbose=0))


@pytest.fixture(scope="module", autouse=True)
def report():
    """After the module's benchmarks: print steps/s and the ratios, and write them to
    `results/vae_training_<device>.json` (a fixture, so `--benchmark-only` writes it too)."""
    yield
    if "tritonlayers" not in RESULTS:
        return
    ours = RESULTS["tritonlayers"]
    summary = {
        "device": str(DEVICE),
        "steps_per_round": STEPS,
        "rounds": ROUNDS,
        "batch_size": BATCH,
        "steps_per_second": RESULTS,
        "speedup_of_fit": {
            name: ours / rate for name, rate in RESULTS.items() if name != "tritonlayers"
        },
    }
    print("\nVAE training steps/s on", DEVICE)
    for name, rate in RESULTS.items():
        print(f"  {name:14s} {rate:9.1f} steps/s   fit is {ours / rate:5.2f}x")
    out = pathlib.Path(__file__).parent / "results" / f"vae_training_{DEVICE.type}.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(summary, indent=2))
