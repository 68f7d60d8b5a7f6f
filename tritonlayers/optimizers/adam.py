"""The Adam family: Adam, AdamW, Adamax and Nadam, in Keras 3's formulation.

torch.optim's versions differ from Keras in small ways, so each update is written with
torch's multi-tensor (`_foreach`) ops, which is also what torch.optim's foreach path runs:

- Adam/AdamW: Keras adds epsilon to `sqrt(v)` before the bias correction
  (`lr * sqrt(1 - b2^t) / (1 - b1^t) * m / (sqrt(v) + eps)`), torch after it
  (`lr / (1 - b1^t) * m / (sqrt(v) / sqrt(1 - b2^t) + eps)`).
- Adamax: Keras adds epsilon to `u` in the denominator; torch adds it inside the max.
- Adam/AdamW on CUDA and the CPU (outside torch.compile) run torch's fused Adam kernel, one call for
  all variables, with Keras's epsilon moved inside the bias correction: torch's
  `sqrt(v) / sqrt(1 - b2^t) + eps'` equals Keras's `(sqrt(v) + eps) / sqrt(1 - b2^t)` when
  `eps' = eps / sqrt(1 - b2^t)`, computed on the host from its step count (no sync).
- Nadam: Keras's momentum schedule is `b1 * (1 - 0.5 * 0.96^t)`; torch's NAdam uses
  `0.96^(t * momentum_decay)`.
"""

import math

import torch

from .base import Optimizer


class _MomentEstimator(Optimizer):
    """Shared arguments of the Adam family: `beta_1`, `beta_2` and `epsilon` (Keras defaults)."""

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

    def get_config(self) -> dict:
        return {
            **super().get_config(),
            "beta_1": self.beta_1,
            "beta_2": self.beta_2,
            "epsilon": self.epsilon,
        }


class Adam(_MomentEstimator):
    """Adam: adaptive moment estimation with Keras's defaults (epsilon 1e-7).

    `m = b1*m + (1-b1)*g; v = b2*v + (1-b2)*g^2;
    var -= lr * sqrt(1-b2^t)/(1-b1^t) * m / (sqrt(v) + epsilon)`; `amsgrad` keeps
    `max(v)` instead of `v`.

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.zeros(1), name="w")
    >>> keras.optimizers.Adam(learning_rate=0.1).apply([torch.ones(1)], [w])
    >>> round(w.numpy().item(), 4)
    -0.1
    """

    def __init__(
        self,
        learning_rate=0.001,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        name: str | None = None,
        **kwargs,
    ):
        super().__init__(learning_rate, beta_1, beta_2, epsilon, name=name, **kwargs)
        self.amsgrad = amsgrad

    def _create_slots(self) -> None:
        self.add_slots(self._trainable_variables, "momentum")
        self.add_slots(self._trainable_variables, "velocity")
        if self.amsgrad:
            self.add_slots(self._trainable_variables, "velocity_hat")

    # "auto": torch's fused kernel for CUDA and CPU variables in eager mode (on the CPU it is
    # ~2.5x faster than the foreach ops for the guide's VAE); "always"/"never" force it. Not
    # while a CUDA graph is captured: the fused kernel takes Keras's epsilon rescaled by the
    # step count as a host number, which a replay would repeat from the captured step; the
    # foreach ops compute it from the device step.
    _fused_policy = "auto"

    def _use_fused(self, like: torch.Tensor) -> bool:
        if self._fused_policy != "auto":
            return self._fused_policy == "always"
        eager = not (torch.compiler.is_compiling() or _capturing_cuda_graph(like))
        return like.device.type in ("cuda", "cpu") and eager

    def _update_group(self, params, grads, indices, lr, step) -> None:
        m = self._slot("momentum", indices)
        v = self._slot("velocity", indices)
        if self._use_fused(params[0]):
            t = self._host_updates() + 1
            torch._fused_adam_(
                params,
                grads,
                m,
                v,
                self._slot("velocity_hat", indices) if self.amsgrad else [],
                [step.float()] * len(params),
                lr=lr.float(),
                beta1=self.beta_1,
                beta2=self.beta_2,
                weight_decay=0.0,
                eps=self.epsilon / math.sqrt(1 - self.beta_2**t),
                amsgrad=self.amsgrad,
                maximize=False,
            )
            return
        alpha = lr * torch.sqrt(1 - self.beta_2**step) / (1 - self.beta_1**step)
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - self.beta_2)
        if self.amsgrad:
            v_hat = self._slot("velocity_hat", indices)
            torch._foreach_maximum_(v_hat, v)
            v = v_hat
        denominator = torch._foreach_sqrt(v)
        torch._foreach_add_(denominator, self.epsilon)
        update = torch._foreach_div(m, denominator)
        torch._foreach_mul_(update, alpha)
        torch._foreach_sub_(params, update)

    def get_config(self) -> dict:
        return {**super().get_config(), "amsgrad": self.amsgrad}


def _capturing_cuda_graph(like: torch.Tensor) -> bool:
    return like.is_cuda and torch.cuda.is_current_stream_capturing()


class AdamW(Adam):
    """Adam with decoupled weight decay (`var -= var * weight_decay * lr` before each step).

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.ones(1), name="w")
    >>> keras.optimizers.AdamW(learning_rate=0.1, weight_decay=0.5).apply([torch.zeros(1)], [w])
    >>> round(w.numpy().item(), 4)
    0.95
    """

    def __init__(
        self,
        learning_rate=0.001,
        weight_decay: float = 0.004,
        beta_1: float = 0.9,
        beta_2: float = 0.999,
        epsilon: float = 1e-7,
        amsgrad: bool = False,
        name: str | None = None,
        **kwargs,
    ):
        if weight_decay is None:
            raise ValueError("Argument `weight_decay` must be a float. Received: weight_decay=None")
        super().__init__(
            learning_rate=learning_rate,
            beta_1=beta_1,
            beta_2=beta_2,
            epsilon=epsilon,
            amsgrad=amsgrad,
            weight_decay=weight_decay,
            name=name,
            **kwargs,
        )


class Adamax(_MomentEstimator):
    """Adam with the infinity norm: `u = max(b2*u, |g|); var -= lr*m / ((1-b1^t)*(u+eps))`.

    Arguments: `learning_rate=0.001`, `beta_1=0.9`, `beta_2=0.999`, `epsilon=1e-7`,
    `name=None` (then "adamax", "adamax_1", ...), and the base `Optimizer` arguments.

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.zeros(1), name="w")
    >>> keras.optimizers.Adamax(learning_rate=0.1).apply([torch.ones(1)], [w])
    >>> round(w.numpy().item(), 4)
    -0.1
    """

    def _create_slots(self) -> None:
        self.add_slots(self._trainable_variables, "momentum")
        self.add_slots(self._trainable_variables, "norm")

    def _update_group(self, params, grads, indices, lr, step) -> None:
        m = self._slot("momentum", indices)
        u = self._slot("norm", indices)
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_mul_(u, self.beta_2)
        torch._foreach_maximum_(u, torch._foreach_abs(grads))
        denominator = torch._foreach_add(u, self.epsilon)
        torch._foreach_mul_(denominator, 1 - self.beta_1**step)
        update = torch._foreach_div(m, denominator)
        torch._foreach_mul_(update, lr)
        torch._foreach_sub_(params, update)


class Nadam(_MomentEstimator):
    """Adam with Nesterov momentum (Dozat 2016), Keras's momentum schedule `0.96^t`.

    Arguments: `learning_rate=0.001`, `beta_1=0.9`, `beta_2=0.999`, `epsilon=1e-7`,
    `name=None` (then "nadam", "nadam_1", ...), and the base `Optimizer` arguments.

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.zeros(1), name="w")
    >>> keras.optimizers.Nadam(learning_rate=0.1).apply([torch.ones(1)], [w])
    >>> round(w.numpy().item(), 4)
    -0.1063
    """

    def _create_slots(self) -> None:
        self.add_slots(self._trainable_variables, "momentum")
        self.add_slots(self._trainable_variables, "velocity")
        like = self._trainable_variables[0] if self._trainable_variables else None
        self._u_product = self.add_scalar("u_product", 1.0, like=like)

    def _before_update(self, step) -> None:
        # The running product of momentum coefficients, advanced once per step.
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96 ** step.to(self._u_product.device))
        self._u_product.mul_(u_t.to(self._u_product.dtype))

    def _update_group(self, params, grads, indices, lr, step) -> None:
        m = self._slot("momentum", indices)
        v = self._slot("velocity", indices)
        u_t = self.beta_1 * (1.0 - 0.5 * 0.96**step)
        u_t_next = self.beta_1 * (1.0 - 0.5 * 0.96 ** (step + 1))
        u_product = self._u_product.to(device=lr.device, dtype=lr.dtype)
        u_product_next = u_product * u_t_next
        torch._foreach_lerp_(m, grads, 1 - self.beta_1)
        torch._foreach_mul_(v, self.beta_2)
        torch._foreach_addcmul_(v, grads, grads, value=1 - self.beta_2)
        # m_hat = u_{t+1} m / (1 - prod_{t+1}) + (1 - u_t) g / (1 - prod_t)
        m_hat = torch._foreach_mul(m, u_t_next / (1 - u_product_next))
        torch._foreach_add_(m_hat, torch._foreach_mul(grads, (1 - u_t) / (1 - u_product)))
        # denominator = sqrt(v / (1 - b2^t)) + epsilon
        denominator = torch._foreach_div(v, 1 - self.beta_2**step)
        torch._foreach_sqrt_(denominator)
        torch._foreach_add_(denominator, self.epsilon)
        update = torch._foreach_div(m_hat, denominator)
        torch._foreach_mul_(update, lr)
        torch._foreach_sub_(params, update)
