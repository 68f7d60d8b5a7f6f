"""`LossScaleOptimizer`: dynamic loss scaling around another optimizer (mixed precision).

`fit` multiplies the loss by the current scale before `backward()` (`scale_loss`); the
update divides the gradients by it again. A step whose gradients hold an inf or a NaN is
skipped and halves the scale; `dynamic_growth_steps` finite steps in a row double it, as in
Keras 3. Deciding to skip reads one flag back to the host each step (as torch's GradScaler
does), so `fit` does not replay such a step as a CUDA graph.
"""

import torch

from .base import Optimizer, _variable

# Arguments Keras 3 accepted on the wrapper in older versions; only their defaults may come
# back (from saved configs).
_INNER_ONLY_DEFAULTS = {
    "weight_decay": None,
    "clipnorm": None,
    "global_clipnorm": None,
    "clipvalue": None,
    "use_ema": False,
    "ema_momentum": 0.99,
    "ema_overwrite_frequency": None,
    "loss_scale_factor": None,
    "gradient_accumulation_steps": None,
}


class LossScaleOptimizer(Optimizer):
    """Scales the loss up so small float16 gradients do not underflow, then unscales them.

    Args:
        inner_optimizer: the optimizer that applies the unscaled gradients.
        initial_scale: the starting loss scale.
        dynamic_growth_steps: after this many steps with finite gradients, the scale doubles.

    Example:
    >>> import torch, tritonlayers as keras
    >>> w = keras.Variable(torch.ones(1), name="w")
    >>> opt = keras.optimizers.LossScaleOptimizer(keras.optimizers.SGD(0.5), initial_scale=4.0)
    >>> opt.scale_loss(2 * w.sum()).backward()
    >>> opt.step([w])
    >>> round(w.numpy().item(), 4), float(opt.dynamic_scale)
    (0.0, 4.0)
    >>> opt.apply([torch.tensor([float("inf")])], [w])
    >>> round(w.numpy().item(), 4), float(opt.dynamic_scale)
    (0.0, 2.0)
    """

    # `fit` must not capture this step in a CUDA graph: it reads the finite flag each step.
    reads_host_each_step = True

    def __init__(
        self,
        inner_optimizer: Optimizer,
        initial_scale: float = 2.0**15,
        dynamic_growth_steps: int = 2000,
        name: "str | None" = None,
        **kwargs,
    ):
        if not kwargs.pop("dynamic", True):
            raise ValueError(
                "LossScaleOptimizer no longer supports `dynamic=False`. Instead, simply set "
                "`loss_scale_factor` directly on the `inner_optimizer`."
            )
        for argument, default in _INNER_ONLY_DEFAULTS.items():
            if argument in kwargs and kwargs.pop(argument) != default:
                raise ValueError(
                    f"LossScaleOptimizer does not support `{argument}`. Instead, set "
                    f"`{argument}` on the `inner_optimizer`."
                )
        if kwargs:
            raise ValueError(
                f"LossScaleOptimizer does not support arguments: `{'`, `'.join(kwargs)}`."
            )
        if not isinstance(inner_optimizer, Optimizer):
            raise TypeError(
                "LossScaleOptimizer wraps a `keras.optimizers.Optimizer`; received "
                f"{inner_optimizer!r}."
            )
        if int(dynamic_growth_steps) < 1:
            raise ValueError(
                f"`dynamic_growth_steps` must be >= 1. Received: {dynamic_growth_steps}"
            )
        super().__init__(learning_rate=0.0, name=name)
        self.inner_optimizer = inner_optimizer
        self.initial_scale = float(initial_scale)
        self.dynamic_growth_steps = int(dynamic_growth_steps)
        # The wrapper scales; the inner optimizer must not unscale a second time.
        inner_optimizer.loss_scale_factor = None

    def build(self, var_list) -> None:
        """Build the inner optimizer and the scale state (`step_counter`, `dynamic_scale`)."""
        if self.built:
            return
        var_list = list(var_list)
        self.inner_optimizer.build(var_list)
        super().build(var_list)
        device = self._iterations.device
        self.step_counter = _variable(
            torch.tensor(0, dtype=torch.int32), "step_counter", device=device, dtype="int32"
        )
        self.dynamic_scale = _variable(
            torch.tensor(self.initial_scale), "dynamic_scale", device=device, dtype="float32"
        )
        self._slot_variables.extend([self.step_counter, self.dynamic_scale])

    @property
    def variables(self) -> list:
        """This wrapper's variables, then the inner optimizer's."""
        return super().variables + self.inner_optimizer.variables

    @property
    def iterations(self):
        """The inner optimizer's update count."""
        return self.inner_optimizer.iterations

    @iterations.setter
    def iterations(self, value) -> None:
        self.inner_optimizer.iterations = value

    @property
    def learning_rate(self) -> torch.Tensor:
        """The inner optimizer's learning rate."""
        return self.inner_optimizer.learning_rate

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        self.inner_optimizer.learning_rate = value

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """`loss` times the current scale (the initial one before the first step)."""
        if not self.built:
            return loss * self.initial_scale
        return loss * self.dynamic_scale.to(loss.device)

    def step(self, trainable_variables) -> None:
        """The trainer's fast path: update from each variable's `.grad`, then clear `.grad`."""
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        params = [v for v in trainable_variables if v.grad is not None]
        self._apply_scaled(params, [v.grad for v in params])
        for v in trainable_variables:
            v.grad = None

    def apply(self, grads, trainable_variables=None) -> None:
        """Apply scaled `grads`: unscale and update if all are finite, else skip the step."""
        grads = list(grads)
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first."
                )
            trainable_variables = self._trainable_variables
        trainable_variables = list(trainable_variables)
        if len(grads) != len(trainable_variables):
            raise ValueError(
                f"Got {len(grads)} gradients for {len(trainable_variables)} variables; "
                "expected one gradient per variable."
            )
        if not self.built:
            self.build(trainable_variables)
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        self._apply_scaled(
            [v for _, v in pairs],
            [torch.as_tensor(g, device=v.device).detach() for g, v in pairs],
        )

    def _apply_scaled(self, params: list, grads: list) -> None:
        if not params:
            return
        with torch.no_grad():
            finite = torch.stack([torch.isfinite(g).all().to(params[0].device) for g in grads])
            scale, counter = self.dynamic_scale, self.step_counter
            if bool(finite.all()):
                unscaled = [g / scale.to(device=g.device, dtype=g.dtype) for g in grads]
                self.inner_optimizer.apply(unscaled, params)
                grow = counter == self.dynamic_growth_steps - 1
                scale.copy_(torch.where(grow, scale * 2, scale))
                counter.copy_(torch.where(grow, torch.zeros_like(counter), counter + 1))
            else:
                counter.zero_()
                scale.mul_(0.5)

    def finalize_variable_values(self, var_list) -> None:
        """The inner optimizer's end-of-training step (its moving averages, if any)."""
        self.inner_optimizer.finalize_variable_values(var_list)

    def get_config(self) -> dict:
        """`name`, the serialized inner optimizer, `initial_scale`, `dynamic_growth_steps`."""
        from ..saving import serialization_lib

        return {
            "name": self.name,
            "inner_optimizer": serialization_lib.serialize_keras_object(self.inner_optimizer),
            "initial_scale": self.initial_scale,
            "dynamic_growth_steps": self.dynamic_growth_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: "dict | None" = None):
        """Rebuild the wrapper and its inner optimizer from `get_config()`."""
        from . import deserialize

        config = dict(config)
        inner = deserialize(config.pop("inner_optimizer"), custom_objects=custom_objects)
        return cls(inner, **config)
