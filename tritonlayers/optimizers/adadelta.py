"""Adadelta (Zeiler 2012) in Keras 3's formulation, with torch multi-tensor (`_foreach`) ops.

Keras keeps a learning rate (default 0.001; the paper's form is `learning_rate=1.0`) and adds
epsilon inside both square roots.
"""

import torch

from .base import Optimizer


class Adadelta(Optimizer):
    """Adadelta: a per-element step from running averages of `g^2` and of past steps.

    Per step, with `rms(x) = sqrt(x + epsilon)`:
    `acc_g = rho*acc_g + (1-rho)*g^2; delta = rms(acc_delta) * g / rms(acc_g);`
    `acc_delta = rho*acc_delta + (1-rho)*delta^2; var -= lr * delta`.

    Args:
        learning_rate: a float or a `schedules.LearningRateSchedule` (default 0.001).
        rho: the decay rate of both running averages (default 0.95).
        epsilon: added inside the square roots (default 1e-7).
        **kwargs: the base `Optimizer` arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.zeros(1), name="w")
    >>> keras.optimizers.Adadelta(learning_rate=1.0).apply([torch.ones(1)], [w])
    >>> round(w.numpy().item(), 6)
    -0.001414
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho: float = 0.95,
        epsilon: float = 1e-7,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.rho = rho
        self.epsilon = epsilon

    def _create_slots(self) -> None:
        self.add_slots(self._trainable_variables, "accumulated_grad")
        self.add_slots(self._trainable_variables, "accumulated_delta_var")

    def _update_group(self, params, grads, indices, lr, step) -> None:
        accumulated_grads = self._slot("accumulated_grad", indices)
        accumulated_deltas = self._slot("accumulated_delta_var", indices)
        torch._foreach_mul_(accumulated_grads, self.rho)
        torch._foreach_addcmul_(accumulated_grads, grads, grads, value=1 - self.rho)
        # delta = sqrt(acc_delta + eps) * g / sqrt(acc_g + eps), from the previous acc_delta.
        delta = torch._foreach_add(accumulated_deltas, self.epsilon)
        torch._foreach_sqrt_(delta)
        torch._foreach_mul_(delta, grads)
        denominator = torch._foreach_add(accumulated_grads, self.epsilon)
        torch._foreach_sqrt_(denominator)
        torch._foreach_div_(delta, denominator)
        torch._foreach_mul_(accumulated_deltas, self.rho)
        torch._foreach_addcmul_(accumulated_deltas, delta, delta, value=1 - self.rho)
        torch._foreach_mul_(delta, lr)
        torch._foreach_sub_(params, delta)

    def get_config(self) -> dict:
        return {**super().get_config(), "rho": self.rho, "epsilon": self.epsilon}
