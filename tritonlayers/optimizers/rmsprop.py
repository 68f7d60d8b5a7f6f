"""Accumulator optimizers: RMSprop and Adagrad, in Keras 3's formulation.

Both differ from torch.optim where epsilon goes: Keras divides by `sqrt(acc + epsilon)`,
torch by `sqrt(acc) + epsilon`; Keras's Adagrad also starts its accumulator at 0.1 (torch: 0).
So the updates are written with torch's multi-tensor (`_foreach`) ops in Keras's form.
"""

import torch

from .base import Optimizer


class RMSprop(Optimizer):
    """RMSprop: `v = rho*v + (1-rho)*g^2; var -= lr * g / sqrt(v + epsilon)`.

    `centered=True` subtracts the squared running mean of `g` inside the root; `momentum > 0`
    accumulates the increments.

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.zeros(1), name="w")
    >>> keras.optimizers.RMSprop(learning_rate=0.1).apply([torch.ones(1)], [w])
    >>> round(w.numpy().item(), 4)
    -0.3162
    """

    def __init__(
        self,
        learning_rate=0.001,
        rho: float = 0.9,
        momentum: float = 0.0,
        epsilon: float = 1e-7,
        centered: bool = False,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            name=name,
            **kwargs,
        )
        self.rho = rho
        self.momentum = momentum
        self.epsilon = epsilon
        self.centered = centered

    def _create_slots(self) -> None:
        self.add_slots(self._trainable_variables, "velocity")
        if self.momentum > 0:
            self.add_slots(self._trainable_variables, "momentum")
        if self.centered:
            self.add_slots(self._trainable_variables, "average_gradient")

    def _update_group(self, params, grads, indices, lr, step) -> None:
        v = self._slot("velocity", indices)
        torch._foreach_mul_(v, self.rho)
        torch._foreach_addcmul_(v, grads, grads, value=1 - self.rho)
        if self.centered:
            average = self._slot("average_gradient", indices)
            torch._foreach_lerp_(average, grads, 1 - self.rho)
            denominator = torch._foreach_addcmul(v, average, average, value=-1)
        else:
            denominator = torch._foreach_mul(v, 1.0)
        torch._foreach_add_(denominator, self.epsilon)
        torch._foreach_sqrt_(denominator)
        increment = torch._foreach_mul(grads, lr)
        torch._foreach_div_(increment, denominator)
        if self.momentum > 0:
            momentums = self._slot("momentum", indices)
            torch._foreach_mul_(momentums, self.momentum)
            torch._foreach_add_(momentums, increment)
            torch._foreach_sub_(params, momentums)
        else:
            torch._foreach_sub_(params, increment)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "rho": self.rho,
            "momentum": self.momentum,
            "epsilon": self.epsilon,
            "centered": self.centered,
        }


class Adagrad(Optimizer):
    """Adagrad: `acc += g^2; var -= lr * g / sqrt(acc + epsilon)`, `acc` starting at 0.1.

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.zeros(1), name="w")
    >>> keras.optimizers.Adagrad(learning_rate=0.1).apply([torch.ones(1)], [w])
    >>> round(w.numpy().item(), 4)
    -0.0953
    """

    def __init__(
        self,
        learning_rate=0.001,
        initial_accumulator_value: float = 0.1,
        epsilon: float = 1e-7,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            name=name,
            **kwargs,
        )
        self.initial_accumulator_value = initial_accumulator_value
        self.epsilon = epsilon

    def _create_slots(self) -> None:
        self.add_slots(self._trainable_variables, "accumulator", self.initial_accumulator_value)

    def _update_group(self, params, grads, indices, lr, step) -> None:
        accumulators = self._slot("accumulator", indices)
        torch._foreach_addcmul_(accumulators, grads, grads)
        denominator = torch._foreach_add(accumulators, self.epsilon)
        torch._foreach_sqrt_(denominator)
        update = torch._foreach_mul(grads, lr)
        torch._foreach_div_(update, denominator)
        torch._foreach_sub_(params, update)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "initial_accumulator_value": self.initial_accumulator_value,
            "epsilon": self.epsilon,
        }
