"""Sampling: the VAE reparameterization layer, one fused kernel call."""

from .. import kernels, random
from .layer import Layer


class Sampling(Layer):
    """Draws `z = z_mean + exp(0.5 * z_log_var) * eps`, `eps ~ N(0, 1)`, from `[z_mean, z_log_var]`.

    Runs `kernels.reparameterize` (one fused, seeded Triton pass on a GPU; the noise is
    regenerated in backward, never stored). With `kl_weight=w` it also adds
    `w * KL(N(z_mean, exp(z_log_var)) || N(0, 1))` as a loss, computed in the same pass by
    `kernels.reparameterize_with_kl`.

    Example:
    >>> import tritonlayers as keras
    >>> sampling = keras.layers.Sampling(kl_weight=1.0, seed=1337)
    >>> z = sampling([keras.ops.ones((4, 2)), keras.ops.zeros((4, 2))])
    >>> tuple(z.shape), float(sampling.losses[0])
    ((4, 2), 0.5)
    """

    def __init__(self, kl_weight: "float | None" = None, seed=None, **kwargs):
        super().__init__(**kwargs)
        self.kl_weight = kl_weight
        self.seed = seed
        self.seed_generator = random.SeedGenerator(seed)

    def call(self, inputs):
        z_mean, z_log_var = self._unpack(inputs)
        seed = self.seed_generator.next()
        if self.kl_weight is None:
            return kernels.reparameterize(z_mean, z_log_var, seed)
        z, kl = kernels.reparameterize_with_kl(z_mean, z_log_var, seed)
        self.add_loss(self.kl_weight * kl)
        return z

    def _unpack(self, inputs):
        if not isinstance(inputs, (list, tuple)) or len(inputs) != 2:
            raise ValueError(
                f'Layer "{self.name}" expects a list of two tensors [z_mean, z_log_var]; '
                f"received: {type(inputs).__name__}"
                + (f" of length {len(inputs)}" if isinstance(inputs, (list, tuple)) else "")
            )
        z_mean, z_log_var = inputs
        if tuple(z_mean.shape) != tuple(z_log_var.shape):
            raise ValueError(
                f'Layer "{self.name}": z_mean and z_log_var must have the same shape; '
                f"received {tuple(z_mean.shape)} and {tuple(z_log_var.shape)}."
            )
        return z_mean, z_log_var

    def compute_output_shape(self, input_shape):
        return tuple(input_shape[0])

    def get_config(self):
        return {**super().get_config(), "kl_weight": self.kl_weight, "seed": self.seed}
