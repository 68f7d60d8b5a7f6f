"""Lamb (You et al. 2019, "Large Batch Optimization for Deep Learning"), Keras 3's form.

An Adam step rescaled per variable by the trust ratio `||var|| / ||step||`, written with
torch's multi-tensor (`_foreach`) ops; the norms stay on the device.
"""

import torch

from .base import Optimizer


class Lamb(Optimizer):
    """Adam's bias-corrected step, scaled per variable by `||var|| / ||step||`.

    Per step `t`: `m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;`
    `u = (m / (1-b1^t)) / (sqrt(v / (1-b2^t)) + epsilon);`
    `var -= ratio * lr * u`, where `ratio = ||var|| / ||u||` when both norms are positive and
    1 otherwise.

    Args:
        learning_rate: a float or a `schedules.LearningRateSchedule` (default 0.001).
        beta_1: decay rate of the first moment (default 0.9).
        beta_2: decay rate of the second moment (default 0.999).
        epsilon: added to the root of the second moment (default 1e-7).
        **kwargs: the base `Optimizer` arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.tensor([3.0, 4.0]), name="w")
    >>> keras.optimizers.Lamb(learning_rate=0.1).apply([torch.tensor([1.0, 0.0])], [w])
    >>> [round(x, 4) for x in w.numpy().tolist()]
    [2.5, 4.0]
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon

    def _create_slots(self) -> None:
        self.add_slots(self._trainable_variables, "momentum")
        self.add_slots(self._trainable_variables, "velocity")

    def _update_group(self, params, grads, indices, lr, step) -> None:
        m = self._slot("momentum", indices)
        v = self._slot("velocity", indices)
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - self.beta_2)
        denominator = torch._foreach_div(v, 1 - self.beta_2**step)
        torch._foreach_sqrt_(denominator)
        torch._foreach_add_(denominator, self.epsilon)
        update = torch._foreach_div(m, denominator)
        torch._foreach_div_(update, 1 - self.beta_1**step)
        # Trust ratio per variable, on the device: ||var|| / ||u|| if both are > 0, else 1.
        weight_norms = torch._foreach_norm(params)
        update_norms = torch._foreach_norm(update)
        scales = [
            torch.where((w > 0) & (u > 0), w / u, torch.ones_like(w)) * lr
            for w, u in zip(weight_norms, update_norms)
        ]
        torch._foreach_mul_(update, scales)
        torch._foreach_sub_(params, update)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }
