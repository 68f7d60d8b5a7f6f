"""Muon (Jordan et al. 2024; Liu et al. 2025, "Muon is Scalable for LLM Training").

Keras 3's form: a 2-D variable takes a momentum-SGD step whose direction is orthogonalised
by a quintic Newton-Schulz iteration (an approximation of `U V^T` from the SVD of the
momentum); every other variable, and 2-D ones whose path names an embedding or matches
`exclude_layers`, takes an AdamW step. Matrices of one shape are orthogonalised together as
one batched matmul chain; the rest of the update runs as torch multi-tensor (`_foreach`) ops
reading the rate and step count from device tensors.
"""

import math
import re

import torch

from .base import Optimizer


class Muon(Optimizer):
    """Momentum orthogonalised by Newton-Schulz for matrices, AdamW for everything else.

    Which step a variable takes is decided once, when the optimizer is built, as Keras does:
    AdamW when the variable is not 2-D, when `exclude_embeddings` is set and its path
    contains "embedding" (any case), or when any `exclude_layers` pattern matches its path
    (`re.search`); the Muon step otherwise.

    Muon step: `m = momentum*m + g; u = g + momentum*m` (`nesterov`, else `u = m`);
    `u = NS(u)`, where NS transposes a tall matrix, divides it by its Frobenius norm (+1e-7)
    and repeats `ns_steps` times `A = X X^T; X = a*X + (b*A + c*A A) X`;
    `var -= lr * u * sqrt(max(rows, cols)) * rms_rate` (no `rms_rate` factor when it is None).

    AdamW step, at rate `lr * adam_lr_ratio`: `m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;`
    `var -= lr_a * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + epsilon)`.

    Decoupled decay `var -= var * wd * lr` runs first, with `wd = weight_decay` for Muon-step
    variables and `adam_weight_decay` for AdamW-step ones (`lr` without `adam_lr_ratio`).

    Args:
        learning_rate: a float or a `schedules.LearningRateSchedule` (default 0.001).
        adam_beta_1: AdamW's first-moment decay (default 0.9).
        adam_beta_2: AdamW's second-moment decay (default 0.999).
        adam_weight_decay: decoupled decay of AdamW-step variables (default 0.004).
        epsilon: added to `sqrt(v)` in the AdamW step (default 1e-7).
        weight_decay: decoupled decay of Muon-step variables (default 0.004).
        clipnorm, clipvalue, global_clipnorm, use_ema, ema_momentum,
            ema_overwrite_frequency, loss_scale_factor, gradient_accumulation_steps, name:
            the base `Optimizer` arguments.
        exclude_layers: regular expressions; a variable whose path matches one takes the
            AdamW step (default none).
        exclude_embeddings: 2-D variables with "embedding" in their path take the AdamW step
            (default True).
        muon_a, muon_b, muon_c: the Newton-Schulz polynomial's coefficients (defaults
            3.4445, -4.7750, 2.0315).
        adam_lr_ratio: the AdamW step's rate as a fraction of `learning_rate` (default 1).
        momentum: the Muon step's momentum (default 0.95).
        ns_steps: Newton-Schulz iterations (default 5).
        nesterov: use Nesterov momentum in the Muon step (default True).
        rms_rate: scales the Muon step by `sqrt(max(rows, cols)) * rms_rate` so that it can
            share Adam's rate and decay (default 0.2); None leaves the step unscaled.

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.zeros(2, 2), name="w")
    >>> opt = keras.optimizers.Muon(learning_rate=0.1, weight_decay=None)
    >>> opt.apply([torch.eye(2)], [w])
    >>> [round(x, 3) for x in w.numpy().ravel().tolist()]
    [-0.031, 0.0, 0.0, -0.031]
    """

    def __init__(
        self,
        learning_rate=0.001,
        adam_beta_1: float = 0.9,
        adam_beta_2: float = 0.999,
        adam_weight_decay: float | None = 0.004,
        epsilon: float = 1e-7,
        weight_decay: float | None = 0.004,
        clipnorm: float | None = None,
        clipvalue: float | None = None,
        global_clipnorm: float | None = None,
        use_ema: bool = False,
        ema_momentum: float = 0.99,
        ema_overwrite_frequency: int | None = None,
        loss_scale_factor: float | None = None,
        gradient_accumulation_steps: int | None = None,
        name: str | None = None,
        exclude_layers: list[str] | None = None,
        exclude_embeddings: bool = True,
        muon_a: float = 3.4445,
        muon_b: float = -4.7750,
        muon_c: float = 2.0315,
        adam_lr_ratio: float = 1,
        momentum: float = 0.95,
        ns_steps: int = 5,
        nesterov: bool = True,
        rms_rate: float | None = 0.2,
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
            name=name,
            **kwargs,
        )
        if isinstance(ns_steps, bool) or not isinstance(ns_steps, int) or ns_steps < 0:
            raise ValueError(
                f"Muon: `ns_steps` must be an integer >= 0. Received: ns_steps={ns_steps!r}"
            )
        exclude_layers = list(exclude_layers or [])
        if not all(isinstance(keyword, str) for keyword in exclude_layers):
            raise ValueError(
                "Muon: `exclude_layers` must be a list of strings (regular expressions "
                f"matched against variable paths). Received: exclude_layers={exclude_layers!r}"
            )
        if adam_weight_decay is not None and (
            not isinstance(adam_weight_decay, (int, float)) or adam_weight_decay < 0
        ):
            raise ValueError(
                "Muon: `adam_weight_decay` must be a float >= 0 or None. Received: "
                f"adam_weight_decay={adam_weight_decay!r}"
            )
        self.adam_beta_1 = adam_beta_1
        self.adam_beta_2 = adam_beta_2
        self.adam_weight_decay = adam_weight_decay
        self.epsilon = epsilon
        self.exclude_layers = exclude_layers
        self.exclude_embeddings = exclude_embeddings
        self.muon_a = muon_a
        self.muon_b = muon_b
        self.muon_c = muon_c
        self.adam_lr_ratio = adam_lr_ratio
        self.momentum = momentum
        self.ns_steps = ns_steps
        self.nesterov = nesterov
        self.rms_rate = rms_rate
        self._uses_adamw: list[bool] = []

    def _should_use_adamw(self, variable) -> bool:
        """Whether `variable` takes the AdamW step (see the class docstring for the rule)."""
        if variable.dim() != 2:
            return True
        path = getattr(variable, "path", None) or getattr(variable, "name", None) or ""
        if self.exclude_embeddings and "embedding" in path.lower():
            return True
        return any(re.search(keyword, path) for keyword in self.exclude_layers)

    def _create_slots(self) -> None:
        variables = self._trainable_variables
        self._uses_adamw = [self._should_use_adamw(v) for v in variables]
        self.add_slots(variables, "momentum")
        adamw_variables = [v for v, adamw in zip(variables, self._uses_adamw) if adamw]
        velocities = iter(self.add_slots(adamw_variables, "velocity"))
        # Only AdamW-step variables keep a second moment; None stands for the Muon-step ones.
        self._slots["velocity"] = [
            next(velocities) if adamw else None for adamw in self._uses_adamw
        ]

    def _use_weight_decay(self, variable) -> bool:
        # The base class's decay (`weight_decay`) covers the Muon-step variables only; the
        # AdamW-step ones are decayed by `adam_weight_decay` in `_update_group`.
        return not self._uses_adamw[self._index[id(variable)]] and super()._use_weight_decay(
            variable
        )

    def _update_group(self, params, grads, indices, lr, step) -> None:
        adamw = [i for i, index in enumerate(indices) if self._uses_adamw[index]]
        muon = [i for i, index in enumerate(indices) if not self._uses_adamw[index]]
        if adamw:
            self._adamw_step(
                [params[i] for i in adamw],
                [grads[i] for i in adamw],
                [indices[i] for i in adamw],
                lr,
                step,
            )
        if muon:
            self._muon_step(
                [params[i] for i in muon], [grads[i] for i in muon], [indices[i] for i in muon], lr
            )

    def _adamw_step(self, params, grads, indices, lr, step) -> None:
        if self.adam_weight_decay is not None:
            decayed = [p for p in params if Optimizer._use_weight_decay(self, p)]
            if decayed:
                torch._foreach_mul_(decayed, 1 - self.adam_weight_decay * lr)
        m = self._slot("momentum", indices)
        v = self._slot("velocity", indices)
        alpha = (
            lr
            * self.adam_lr_ratio
            * torch.sqrt(1 - self.adam_beta_2**step)
            / (1 - self.adam_beta_1**step)
        )
        torch._foreach_lerp_(m, grads, 1 - self.adam_beta_1)
        torch._foreach_mul_(v, self.adam_beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - self.adam_beta_2)
        denominator = torch._foreach_sqrt(v)
        torch._foreach_add_(denominator, self.epsilon)
        update = torch._foreach_div(m, denominator)
        torch._foreach_mul_(update, alpha)
        torch._foreach_sub_(params, update)

    def _muon_step(self, params, grads, indices, lr) -> None:
        m = self._slot("momentum", indices)
        torch._foreach_mul_(m, self.momentum)
        torch._foreach_add_(m, grads)
        directions = torch._foreach_add(grads, m, alpha=self.momentum) if self.nesterov else m
        # One batched Newton-Schulz chain per matrix shape.
        by_shape: dict[tuple[int, ...], list[int]] = {}
        for i, p in enumerate(params):
            by_shape.setdefault(tuple(p.shape), []).append(i)
        for positions in by_shape.values():
            stacked = torch.stack([directions[i] for i in positions])
            update = self.lr_adjust(lr * self.zeropower_via_newtonschulz5(stacked, self.ns_steps))
            torch._foreach_sub_([params[i] for i in positions], list(update.unbind(0)))

    @staticmethod
    def transpose_last_axis(x: torch.Tensor) -> torch.Tensor:
        """`x` with its last two axes swapped."""
        return x.transpose(-2, -1)

    def lr_adjust(self, x: torch.Tensor) -> torch.Tensor:
        """`x * sqrt(max(rows, cols)) * rms_rate` over the last two axes (`x` if `rms_rate`
        is None): the Moonlight scaling that lets Muon share Adam's rate and decay.

        Example:
        >>> import torch, tritonlayers as keras
        >>> keras.optimizers.Muon().lr_adjust(torch.ones(4, 9))[0, 0].item()
        0.6000000238418579
        """
        if self.rms_rate is None:
            return x
        return x * (math.sqrt(max(x.shape[-2], x.shape[-1])) * self.rms_rate)

    def zeropower_via_newtonschulz5(self, x: torch.Tensor, steps: int) -> torch.Tensor:
        """Approximately orthogonalise each matrix in the last two axes of `x` with `steps`
        quintic Newton-Schulz iterations (coefficients `muon_a`, `muon_b`, `muon_c`).

        Example:
        >>> import torch, tritonlayers as keras
        >>> o = keras.optimizers.Muon().zeropower_via_newtonschulz5(torch.eye(3) * 5, 5)
        >>> [round(v, 2) for v in torch.diagonal(o).tolist()]
        [0.69, 0.69, 0.69]
        """
        if x.dim() < 2:
            raise ValueError(
                "Muon: expected gradient or momentum to have at least 2 dimensions. "
                f"Received: shape={tuple(x.shape)}"
            )
        a, b, c = self.muon_a, self.muon_b, self.muon_c
        tall = x.shape[-2] > x.shape[-1]
        if tall:
            x = self.transpose_last_axis(x)
        # Dividing by the Frobenius norm bounds the spectral norm by 1.
        x = x / (torch.linalg.vector_norm(x, dim=(-2, -1), keepdim=True) + 1e-7)
        for _ in range(steps):
            gram = x @ self.transpose_last_axis(x)
            x = a * x + (b * gram + c * gram @ gram) @ x
        return self.transpose_last_axis(x) if tall else x

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "adam_beta_1": self.adam_beta_1,
            "adam_beta_2": self.adam_beta_2,
            "epsilon": self.epsilon,
            "exclude_layers": self.exclude_layers,
            "muon_a": self.muon_a,
            "muon_b": self.muon_b,
            "muon_c": self.muon_c,
            "adam_lr_ratio": self.adam_lr_ratio,
            "momentum": self.momentum,
            "ns_steps": self.ns_steps,
            "nesterov": self.nesterov,
            "exclude_embeddings": self.exclude_embeddings,
            "adam_weight_decay": self.adam_weight_decay,
            "rms_rate": self.rms_rate,
        }
