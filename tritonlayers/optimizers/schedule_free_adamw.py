"""Schedule-Free AdamW (Defazio et al. 2024, "The Road Less Scheduled"), Keras 3's form.

The optimizer keeps a sequence `z` (the "momentum" slot, started at the variable's value)
that takes plain Adam-preconditioned SGD steps, and an average `x` of the `z` iterates; the
model's variable holds their interpolation `y = (1 - beta_1) * z + beta_1 * x`, where the
gradient is evaluated. `x` is not stored: each step recovers it from `y` and `z`. Written
with torch's multi-tensor (`_foreach`) ops; the rate and step count stay on the device.
"""

import torch

from .base import Optimizer


class ScheduleFreeAdamW(Optimizer):
    """AdamW without a learning-rate schedule: an interpolation of SGD steps and their mean.

    Per step `t` (rate `lr * min(t / warmup_steps, 1)` when `warmup_steps > 0`), with `y`
    the variable and `z` its momentum slot before the step:
    `x = (y - (1-b1)*z) / b1; v = b2*v + (1-b2)*g^2;`
    `z -= lr * g / (sqrt(v / (1-b2^t)) + epsilon); x = (1-1/t)*x + z/t;`
    `y = (1-b1)*z + b1*x`.

    Keras exposes no train/eval weight swap for this optimizer (the variables always hold
    `y`), and neither does this one.

    Args:
        learning_rate: a float or a `schedules.LearningRateSchedule` (default 0.0025).
        beta_1: the interpolation weight of the average `x` in `y` (default 0.9).
        beta_2: decay rate of the second moment (default 0.999).
        epsilon: added to the bias-corrected root of the second moment (default 1e-8).
        warmup_steps: the rate rises linearly from `lr / warmup_steps` to `lr` over this
            many steps (default 0: no warm-up).
        weight_decay, clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            the base `Optimizer` arguments.

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.ones(2), name="w")
    >>> keras.optimizers.ScheduleFreeAdamW(learning_rate=0.1).apply([torch.ones(2)], [w])
    >>> [round(x, 4) for x in w.numpy().tolist()]
    [0.9, 0.9]
    """

    def __init__(
        self,
        learning_rate=0.0025,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-8,
        warmup_steps: int = 0,
        weight_decay: float | None = None,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(
            learning_rate=learning_rate,
            weight_decay=weight_decay,
            clipnorm=clipnorm,
            clipvalue=clipvalue,
            global_clipnorm=global_clipnorm,
            use_ema=use_ema,
            ema_momentum=ema_momentum,
            ema_overwrite_frequency=ema_overwrite_frequency,
            loss_scale_factor=loss_scale_factor,
            gradient_accumulation_steps=gradient_accumulation_steps,
            name=name or "schedule_free_adam_w",
            **kwargs,
        )
        if isinstance(warmup_steps, bool) or not isinstance(warmup_steps, int) or warmup_steps < 0:
            raise ValueError(
                "ScheduleFreeAdamW: `warmup_steps` must be an integer >= 0. Received: "
                f"warmup_steps={warmup_steps!r}"
            )
        if not isinstance(beta_1, (int, float)) or not 0 < beta_1 <= 1:
            raise ValueError(
                "ScheduleFreeAdamW: `beta_1` must be a float in (0, 1] (each step divides by "
                f"it). Received: beta_1={beta_1!r}"
            )
        self.beta_1 = beta_1
        self.beta_2 = beta_2
        self.epsilon = epsilon
        self.warmup_steps = warmup_steps

    def _create_slots(self) -> None:
        momenta = self.add_slots(self._trainable_variables, "momentum")
        # z starts at the variable's value, so that y = x = z before the first step.
        with torch.no_grad():
            torch._foreach_copy_(momenta, [v.detach() for v in self._trainable_variables])
        self.add_slots(self._trainable_variables, "velocity")

    def _update_group(self, params, grads, indices, lr, step) -> None:
        z = self._slot("momentum", indices)
        v = self._slot("velocity", indices)
        if self.warmup_steps > 0:
            lr = lr * torch.clamp(step / self.warmup_steps, max=1.0)
        # x from y and the z before this step: x = (y - (1-b1)*z) / b1.
        x = torch._foreach_add(params, z, alpha=-(1 - self.beta_1))
        torch._foreach_div_(x, self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - self.beta_2)
        denominator = torch._foreach_div(v, 1 - self.beta_2**step)
        torch._foreach_sqrt_(denominator)
        torch._foreach_add_(denominator, self.epsilon)
        update = torch._foreach_div(grads, denominator)
        torch._foreach_mul_(update, lr)
        torch._foreach_sub_(z, update)
        # x = (1 - 1/t)*x + z/t, then y = (1-b1)*z + b1*x.
        towards_z = torch._foreach_sub(z, x)
        torch._foreach_div_(towards_z, step)
        torch._foreach_add_(x, towards_z)
        torch._foreach_mul_(x, self.beta_1)
        torch._foreach_add_(x, z, alpha=1 - self.beta_1)
        torch._foreach_copy_(params, x)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
            "warmup_steps": self.warmup_steps,
        }
