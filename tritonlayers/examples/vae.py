"""The subclassing guide's variational autoencoder, trained on MNIST with `fit`.

It is the guide's code with `import tritonlayers as keras` (and the model class registered
for loading its saved file): an `Encoder` and a
`Decoder` (subclassed layers, the encoder ending in a `Sampling` layer), combined in a
`VariationalAutoEncoder(keras.Model)` that adds the KL divergence with `add_loss`, trained
with Adam(1e-3) on the mean squared reconstruction error.

Run it with `python -m tritonlayers.examples.vae [--epochs 2] [--batch-size 64]
[--data mnist|synthetic] [--samples 6000] [--output vae.keras]`. `--data synthetic` trains
on random MNIST-shaped strokes, for machines that cannot download MNIST.
"""

import argparse
import os
import sys

import numpy as np

import tritonlayers as keras
from tritonlayers import layers, ops


class Sampling(layers.Layer):
    """Uses (z_mean, z_log_var) to sample z, the vector encoding a digit."""

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        self.seed_generator = keras.random.SeedGenerator(1337)

    def call(self, inputs):
        z_mean, z_log_var = inputs
        batch = ops.shape(z_mean)[0]
        dim = ops.shape(z_mean)[1]
        epsilon = keras.random.normal(shape=(batch, dim), seed=self.seed_generator)
        return z_mean + ops.exp(0.5 * z_log_var) * epsilon


class Encoder(layers.Layer):
    """Maps MNIST digits to a triplet (z_mean, z_log_var, z)."""

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
    """Converts z, the encoded digit vector, back into a readable digit."""

    def __init__(self, original_dim, intermediate_dim=64, name="decoder", **kwargs):
        super().__init__(name=name, **kwargs)
        self.dense_proj = layers.Dense(intermediate_dim, activation="relu")
        self.dense_output = layers.Dense(original_dim, activation="sigmoid")

    def call(self, inputs):
        x = self.dense_proj(inputs)
        return self.dense_output(x)


# Registered (the guide's code is not) so that the saved model loads back with
# `keras.saving.load_model` once this module is imported.
@keras.saving.register_keras_serializable(package="tritonlayers_examples")
class VariationalAutoEncoder(keras.Model):
    """Combines the encoder and decoder into an end-to-end model for training."""

    def __init__(
        self,
        original_dim,
        intermediate_dim=64,
        latent_dim=32,
        name="autoencoder",
        **kwargs,
    ):
        super().__init__(name=name, **kwargs)
        self.original_dim = original_dim
        self.encoder = Encoder(latent_dim=latent_dim, intermediate_dim=intermediate_dim)
        self.decoder = Decoder(original_dim, intermediate_dim=intermediate_dim)

    def call(self, inputs):
        z_mean, z_log_var, z = self.encoder(inputs)
        reconstructed = self.decoder(z)
        # Add KL divergence regularization loss.
        kl_loss = -0.5 * ops.mean(z_log_var - ops.square(z_mean) - ops.exp(z_log_var) + 1)
        self.add_loss(kl_loss)
        return reconstructed


def synthetic_digits(num_samples: int, seed: int = 0) -> np.ndarray:
    """MNIST-shaped uint8 images (num_samples, 28, 28) of random thick strokes on black.

    Example:
    >>> synthetic_digits(2).shape
    (2, 28, 28)
    """
    rng = np.random.default_rng(seed)
    images = np.zeros((num_samples, 28, 28), dtype=np.float32)
    rows, cols = np.mgrid[0:28, 0:28]
    for _ in range(3):
        start = rng.uniform(6, 22, size=(num_samples, 2))
        end = rng.uniform(6, 22, size=(num_samples, 2))
        for t in np.linspace(0.0, 1.0, 12):
            point = start + t * (end - start)
            dist2 = (rows[None] - point[:, 0, None, None]) ** 2 + (
                cols[None] - point[:, 1, None, None]
            ) ** 2
            images = np.maximum(images, np.exp(-dist2 / 3.0))
    return (images * 255).astype(np.uint8)


def load_training_images(source: str, synthetic_samples: int = 6000) -> np.ndarray:
    """The training images as float32 rows of 784 values in [0, 1]."""
    if source == "mnist":
        (x_train, _), _ = keras.datasets.mnist.load_data()
    else:
        x_train = synthetic_digits(synthetic_samples)
    return x_train.reshape(len(x_train), 784).astype("float32") / 255


def main(argv=None) -> VariationalAutoEncoder:
    """Train the guide's VAE, print the loss per epoch and save the model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--epochs", type=int, default=2)
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--data", choices=("mnist", "synthetic"), default="mnist")
    parser.add_argument("--output", default="vae.keras", help="where to save the trained model")
    parser.add_argument(
        "--samples", type=int, default=6000, help="how many images `--data synthetic` makes"
    )
    args = parser.parse_args(argv)

    try:
        x_train = load_training_images(args.data, args.samples)
    except OSError as error:
        sys.exit(f"Could not load MNIST: {error}\nRun with `--data synthetic` to train offline.")

    vae = VariationalAutoEncoder(784, 64, 32)
    optimizer = keras.optimizers.Adam(learning_rate=1e-3)
    vae.compile(optimizer, loss=keras.losses.MeanSquaredError())
    history = vae.fit(x_train, x_train, epochs=args.epochs, batch_size=args.batch_size)
    losses = ", ".join(f"{loss:.4f}" for loss in history.history["loss"])
    print(f"loss per epoch: {losses}")
    os.makedirs(os.path.dirname(os.path.abspath(args.output)), exist_ok=True)
    vae.save(args.output)
    print(f"saved the trained model to {args.output}")
    return vae


if __name__ == "__main__":
    main()
