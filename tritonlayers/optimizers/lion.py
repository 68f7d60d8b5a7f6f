"""Lion (Chen et al. 2023, "Symbolic Discovery of Optimization Algorithms"), Keras 3's form.

torch.optim has no Lion, so the update is written with torch's multi-tensor ops.
"""

import torch

from .base import Optimizer


class Lion(Optimizer):
    """Sign momentum: `var -= lr * sign(b1*m + (1-b1)*g); m = b2*m + (1-b2)*g`.

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.zeros(2), name="w")
    >>> keras.optimizers.Lion(learning_rate=0.1).apply([torch.tensor([3.0, -0.5])], [w])
    >>> [round(x, 4) for x in w.numpy().tolist()]
    [-0.1, 0.1]
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.99,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            name=name,
            **kwargs,
        )
        if beta_1 <= 0 or beta_1 > 1:
            raise ValueError(
                "Argument `beta_1` must be in the [0, 1] range. Otherwise, the optimizer "
                f"degenerates to SignSGD. Received: beta_1={beta_1}."
            )
        self.beta_1 = beta_1
        self.beta_2 = beta_2

    def _create_slots(self) -> None:
        self.add_slots(self._trainable_variables, "momentum")

    def _update_group(self, params, grads, indices, lr, step) -> None:
        m = self._slot("momentum", indices)
        direction = torch._foreach_lerp(m, grads, 1 - self.beta_1)
        torch._foreach_sign_(direction)
        torch._foreach_mul_(direction, lr)
        torch._foreach_sub_(params, direction)
        torch._foreach_lerp_(m, grads, 1 - self.beta_2)

    def get_config(self) -> dict:
        return {**super().get_config(), "beta_1": self.beta_1, "beta_2": self.beta_2}
