"""Adafactor (Shazeer & Stern 2018, "Adaptive Learning Rates with Sublinear Memory Cost").

Keras 3's form: for a variable of rank >= 2 the second moment is kept as two factors, a
row mean `r` over the last axis and a column mean `c` over the second-to-last, and rebuilt
as `v = (r / mean(r)) outer c`; a variable of rank < 2 keeps a full `v`. The step is scaled
by the variable's RMS and clipped by its own RMS (`clip_threshold`).
"""

import math

import torch

from .base import Optimizer, _dtype_name, _variable


class Adafactor(Optimizer):
    """Adafactor: factored second moments, a relative step size and update clipping.

    Per step `t`, with `rms(x) = sqrt(mean(x^2))`:
    `rho = min(lr, 1/sqrt(t)); alpha = max(epsilon_2, rms(var)) * rho;`
    `b2 = 1 - t^beta_2_decay; g2 = g^2 + epsilon_1;` then for rank >= 2
    `r = b2*r + (1-b2)*mean(g2, -1); c = b2*c + (1-b2)*mean(g2, -2);`
    `v = (r / mean(r, -1))[..., None] * c[..., None, :]`, otherwise `v = b2*v + (1-b2)*g2`;
    `u = g / sqrt(v); var -= alpha * u / max(1, rms(u) / clip_threshold)`.

    Args:
        learning_rate: a float or a `schedules.LearningRateSchedule` (default 0.001).
        beta_2_decay: the exponent of `t` in the second-moment decay (default -0.8).
        epsilon_1: added to `g^2` (default 1e-30).
        epsilon_2: the smallest variable RMS used to scale the step (default 1e-3).
        clip_threshold: clips the update to this RMS (default 1.0); independent of
            `clipnorm`, `clipvalue` and `global_clipnorm`.
        relative_step: cap a constant learning rate at `1/sqrt(t)` (default True). As in
            Keras 3.15, the step size `rho` is capped at `1/sqrt(t)` either way.
        **kwargs: the base `Optimizer` arguments (`weight_decay`, `clipnorm`, ...).

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.ones(2, 3), name="w")
    >>> keras.optimizers.Adafactor(learning_rate=0.1).apply([torch.ones(2, 3)], [w])
    >>> [round(x, 4) for x in w.numpy()[0].tolist()]
    [0.9, 0.9, 0.9]
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_2_decay: float = -0.8,
        epsilon_1: float = 1e-30,
        epsilon_2: float = 1e-3,
        clip_threshold: float = 1.0,
        relative_step: bool = True,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(learning_rate=learning_rate, name=name, **kwargs)
        self.beta_2_decay = beta_2_decay
        self.epsilon_1 = epsilon_1
        self.epsilon_2 = epsilon_2
        self.clip_threshold = clip_threshold
        self.relative_step = relative_step

    def _create_slots(self) -> None:
        rows, columns = [], []
        for var in self._trainable_variables:
            shape = tuple(var.shape)
            factored = len(shape) >= 2
            # Rank < 2: scalar placeholders keep one (r, c, v) triple per variable, as in Keras.
            rows.append(self._factor(var, "r", shape[:-1] if factored else ()))
            columns.append(self._factor(var, "c", shape[:-2] + shape[-1:] if factored else ()))
        self._slots["r"], self._slots["c"] = rows, columns
        self.add_slots(self._trainable_variables, "velocity")

    def _factor(self, var: torch.Tensor, slot_name: str, shape: tuple[int, ...]):
        base = getattr(var, "name", None) or "variable"
        slot = _variable(
            torch.zeros(shape, dtype=var.dtype, device=var.device),
            f"{base}_{slot_name}".replace("/", "_"),
            device=var.device,
            dtype=_dtype_name(var),
        )
        self._slot_variables.append(slot)
        return slot

    def _update_group(self, params, grads, indices, lr, step) -> None:
        rows = self._slot("r", indices)
        columns = self._slot("c", indices)
        velocities = self._slot("velocity", indices)
        # Keras caps a constant rate when `relative_step`, and caps `rho` in every case.
        rho = torch.minimum(lr, torch.rsqrt(step))
        beta_2 = 1 - step**self.beta_2_decay
        # alpha = max(epsilon_2, rms(var)) * rho, from the variable before this step.
        alphas = [
            torch.clamp(norm / math.sqrt(max(p.numel(), 1)), min=self.epsilon_2) * rho
            for norm, p in zip(torch._foreach_norm(params), params)
        ]
        squares = torch._foreach_mul(grads, grads)
        torch._foreach_add_(squares, self.epsilon_1)
        for p, square, r, c, v in zip(params, squares, rows, columns, velocities):
            if p.dim() >= 2:
                r.lerp_(square.mean(dim=-1), 1 - beta_2)
                c.lerp_(square.mean(dim=-2), 1 - beta_2)
                v.copy_((r / r.mean(dim=-1, keepdim=True)).unsqueeze(-1) * c.unsqueeze(-2))
            else:
                v.lerp_(square, 1 - beta_2)
        updates = torch._foreach_div(grads, torch._foreach_sqrt(velocities))
        # u / max(1, rms(u) / clip_threshold), times alpha.
        scales = [
            alpha
            / torch.clamp(norm / (math.sqrt(max(u.numel(), 1)) * self.clip_threshold), min=1.0)
            for alpha, norm, u in zip(alphas, torch._foreach_norm(updates), updates)
        ]
        torch._foreach_mul_(updates, scales)
        torch._foreach_sub_(params, updates)

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_2_decay": self.beta_2_decay,
            "epsilon_1": self.epsilon_1,
            "epsilon_2": self.epsilon_2,
            "clip_threshold": self.clip_threshold,
            "relative_step": self.relative_step,
        }
