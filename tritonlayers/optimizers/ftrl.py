"""FTRL-Proximal (McMahan et al. 2013, "Ad Click Prediction"), Keras 3's form.

Keras's variant adds online L2 (`l2_regularization_strength`, plus `beta / (2 * lr)`) and
shrinkage L2 (`l2_shrinkage_regularization_strength`, added to the gradient). The closed-form
update is written with torch's multi-tensor (`_foreach`) ops.
"""

import torch

from .base import Optimizer


class Ftrl(Optimizer):
    """Follow The Regularized Leader: the variable is a closed-form function of two sums.

    Per step, with `p = -learning_rate_power` and `g' = g + 2*l2_shrinkage*var`:
    `n_new = n + g^2; z += g' - (n_new^p - n^p) / lr * var;`
    `var = (clip(z, -l1, l1) - z) / ((n_new^p + beta) / lr + 2*l2); n = n_new`.

    Args:
        learning_rate: a float or a `schedules.LearningRateSchedule` (default 0.001).
        learning_rate_power: how the per-element rate decays, `<= 0` (default -0.5; 0 keeps
            it fixed).
        initial_accumulator_value: starting value of `n`, `>= 0` (default 0.1).
        l1_regularization_strength: L1 strength `l1`, `>= 0` (default 0.0).
        l2_regularization_strength: online (stabilizing) L2 strength `l2`, `>= 0` (default
            0.0).
        l2_shrinkage_regularization_strength: magnitude L2 added to the gradient, `>= 0`
            (default 0.0).
        beta: the paper's beta (default 0.0).
        **kwargs: the base `Optimizer` arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.zeros(1), name="w")
    >>> opt = keras.optimizers.Ftrl(learning_rate=0.1, initial_accumulator_value=0.0)
    >>> opt.apply([torch.ones(1)], [w])
    >>> round(w.numpy().item(), 4)
    -0.1
    """

    def __init__(
        self,
        learning_rate=0.001,
        learning_rate_power: float = -0.5,
        initial_accumulator_value: float = 0.1,
        l1_regularization_strength: float = 0.0,
        l2_regularization_strength: float = 0.0,
        l2_shrinkage_regularization_strength: float = 0.0,
        beta: float = 0.0,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        if learning_rate_power > 0.0:
            raise ValueError(
                "Ftrl: `learning_rate_power` needs to be negative or zero. Received: "
                f"learning_rate_power={learning_rate_power}."
            )
        for arg, value in (
            ("initial_accumulator_value", initial_accumulator_value),
            ("l1_regularization_strength", l1_regularization_strength),
            ("l2_regularization_strength", l2_regularization_strength),
            ("l2_shrinkage_regularization_strength", l2_shrinkage_regularization_strength),
        ):
            if value < 0.0:
                raise ValueError(
                    f"Ftrl: `{arg}` needs to be positive or zero. Received: {arg}={value}."
                )
        self.learning_rate_power = learning_rate_power
        self.initial_accumulator_value = initial_accumulator_value
        self.l1_regularization_strength = l1_regularization_strength
        self.l2_regularization_strength = l2_regularization_strength
        self.l2_shrinkage_regularization_strength = l2_shrinkage_regularization_strength
        self.beta = beta

    def _create_slots(self) -> None:
        self.add_slots(self._trainable_variables, "accumulator", self.initial_accumulator_value)
        self.add_slots(self._trainable_variables, "linear")

    def _update_group(self, params, grads, indices, lr, step) -> None:
        accumulators = self._slot("accumulator", indices)
        linears = self._slot("linear", indices)
        power = -self.learning_rate_power
        inverse_lr = 1.0 / lr
        new_accumulators = torch._foreach_addcmul(accumulators, grads, grads)
        new_powers = torch._foreach_pow(new_accumulators, power)
        # sigma = (n_new^p - n^p) / lr; z += g + 2*l2_shrinkage*var - sigma*var
        sigma = torch._foreach_sub(new_powers, torch._foreach_pow(accumulators, power))
        torch._foreach_mul_(sigma, inverse_lr)
        torch._foreach_add_(linears, grads)
        if self.l2_shrinkage_regularization_strength:
            shrinkage = 2 * self.l2_shrinkage_regularization_strength
            torch._foreach_add_(linears, params, alpha=shrinkage)
        torch._foreach_sub_(linears, torch._foreach_mul(sigma, params))
        # quadratic = n_new^p / lr + 2 * (l2 + beta / (2 * lr))
        quadratic = torch._foreach_add(new_powers, self.beta)
        torch._foreach_mul_(quadratic, inverse_lr)
        torch._foreach_add_(quadratic, 2 * self.l2_regularization_strength)
        l1 = self.l1_regularization_strength
        numerator = torch._foreach_clamp_min(linears, -l1)
        torch._foreach_clamp_max_(numerator, l1)
        torch._foreach_sub_(numerator, linears)
        torch._foreach_div_(numerator, quadratic)
        torch._foreach_copy_(params, numerator)
        torch._foreach_copy_(accumulators, new_accumulators)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "learning_rate_power": self.learning_rate_power,
            "initial_accumulator_value": self.initial_accumulator_value,
            "l1_regularization_strength": self.l1_regularization_strength,
            "l2_regularization_strength": self.l2_regularization_strength,
            "l2_shrinkage_regularization_strength": self.l2_shrinkage_regularization_strength,
            "beta": self.beta,
        }
