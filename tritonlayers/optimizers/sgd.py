"""SGD with optional momentum and Nesterov momentum, Keras 3's formulation.

Keras keeps the learning rate inside the velocity (`m = momentum * m - lr * g`), while
torch.optim.SGD keeps it outside (`buf = momentum * buf + g; var -= lr * buf`). The two agree
for a constant rate but not under a schedule, so the update is written here with torch's
multi-tensor (`_foreach`) ops in Keras's form.
"""

import torch

from .base import Optimizer


class SGD(Optimizer):
    """Gradient descent, with momentum `m = momentum * m - lr * g; var += m` when set.

    With `nesterov=True`: `var += momentum * m - lr * g` (after updating `m`).

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.ones(1), name="w")
    >>> opt = keras.optimizers.SGD(learning_rate=0.1, momentum=0.9)
    >>> for _ in range(2):
    ...     opt.apply([torch.ones(1)], [w])
    >>> round(w.numpy().item(), 4)
    0.71
    """

    def __init__(
        self,
        learning_rate=0.01,
        momentum: float = 0.0,
        nesterov: bool = False,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            name=name,
            **kwargs,
        )
        if not isinstance(momentum, (int, float)) or momentum < 0 or momentum > 1:
            raise ValueError("`momentum` must be a float between [0, 1].")
        self.momentum = momentum
        self.nesterov = nesterov

    def _create_slots(self) -> None:
        if self.momentum != 0:
            self.add_slots(self._trainable_variables, "momentum")

    def _update_group(self, params, grads, indices, lr, step) -> None:
        lr_grads = torch._foreach_mul(grads, lr)
        if self.momentum == 0:
            torch._foreach_sub_(params, lr_grads)
            return
        momentums = self._slot("momentum", indices)
        torch._foreach_mul_(momentums, self.momentum)
        torch._foreach_sub_(momentums, lr_grads)
        if self.nesterov:
            step_delta = torch._foreach_mul(momentums, self.momentum)
            torch._foreach_sub_(step_delta, lr_grads)
            torch._foreach_add_(params, step_delta)
        else:
            torch._foreach_add_(params, momentums)

    def get_config(self) -> dict:
        return {**super().get_config(), "momentum": self.momentum, "nesterov": self.nesterov}
