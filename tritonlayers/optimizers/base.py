"""`Optimizer`: Keras 3's optimizer API over torch multi-tensor (`_foreach`) updates.

One update, in Keras's order: unscale (`loss_scale_factor`), clip (`clipnorm`,
`global_clipnorm` or `clipvalue`), decoupled weight decay (`var -= var * wd * lr`), the
optimizer's own rule, variable constraints, then `iterations += 1`. The learning rate (a
Variable, or a schedule evaluated on the device `iterations` counter) and every state
tensor live on the device, so an update never waits for the GPU.

Subclasses declare their state in `_create_slots` with `add_slots` and write `_update_group`.
"""

import re
from collections.abc import Iterable

import numpy as np
import torch

from .. import config
from ..layers.naming import to_snake_case, unique_name
from . import schedules

# Every `_FLUSH_EVERY` updates, CPU optimizer state below `_TINY` is zeroed (see
# `Optimizer._flush_tiny_state`); a moment decaying by 0.9 a step needs ~170 steps to fall
# from 1e-30 into the subnormal range.
_FLUSH_EVERY = 128
_TINY = 1e-30


def _variable(value, name: str, device=None, dtype=None):
    from ..layers.variables import Variable

    return Variable(value, dtype=dtype, trainable=False, autocast=False, name=name, device=device)


def _dtype_name(tensor: torch.Tensor) -> str:
    return str(tensor.dtype).removeprefix("torch.")


class Optimizer:
    """Base class of optimizers.

    Args:
        learning_rate: a float or a `schedules.LearningRateSchedule`.
        weight_decay: if set, decoupled decay `var -= var * weight_decay * lr` each step.
        clipnorm: clip each gradient to this L2 norm.
        clipvalue: clip each gradient element to `[-clipvalue, clipvalue]`.
        global_clipnorm: clip all gradients together to this global L2 norm.
        use_ema: keep an exponential moving average of the variables (`ema_momentum`);
            `ema_overwrite_frequency` copies it into them every that many steps, and
            `finalize_variable_values` at the end.
        loss_scale_factor: gradients are divided by it before the update.
        gradient_accumulation_steps: update every N calls with the mean of their gradients
            (the learning-rate schedule still sees every call).
        name: the optimizer's name.

    Example:
    >>> import torch
    >>> import tritonlayers as keras
    >>> w = keras.Variable(torch.ones(2), name="w")
    >>> opt = keras.optimizers.SGD(learning_rate=0.5)
    >>> opt.apply([torch.full((2,), 2.0)], [w])
    >>> w.numpy().tolist(), int(opt.iterations)
    ([0.0, 0.0], 1)
    """

    def __init__(
        self,
        learning_rate,
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
        if kwargs:
            raise ValueError(f"Argument(s) not recognized: {kwargs}")
        if sum(arg is not None for arg in (clipnorm, clipvalue, global_clipnorm)) > 1:
            raise ValueError(
                "Only one of `clipnorm`, `clipvalue` and `global_clipnorm` can be set. "
                f"Received: clipnorm={clipnorm}, clipvalue={clipvalue}, "
                f"global_clipnorm={global_clipnorm}"
            )
        for arg, value in (
            ("clipnorm", clipnorm),
            ("clipvalue", clipvalue),
            ("global_clipnorm", global_clipnorm),
            ("weight_decay", weight_decay),
        ):
            if value is not None and (not isinstance(value, (int, float)) or value < 0):
                raise ValueError(f"Argument `{arg}` must be a float >= 0. Received: {value}")
        if use_ema and not 0 <= ema_momentum <= 1:
            raise ValueError(
                f"`ema_momentum` must be in the range [0, 1]. Received: ema_momentum={ema_momentum}"
            )
        if (
            use_ema
            and ema_overwrite_frequency
            and (not isinstance(ema_overwrite_frequency, int) or ema_overwrite_frequency < 1)
        ):
            raise ValueError(
                "`ema_overwrite_frequency` must be an integer >= 1 or None. Received: "
                f"ema_overwrite_frequency={ema_overwrite_frequency}"
            )
        if gradient_accumulation_steps and (
            not isinstance(gradient_accumulation_steps, int) or gradient_accumulation_steps < 2
        ):
            raise ValueError(
                "`gradient_accumulation_steps` must be an integer >= 2. Received: "
                f"gradient_accumulation_steps={gradient_accumulation_steps}"
            )
        self.use_ema = use_ema
        self.ema_momentum = ema_momentum
        self.ema_overwrite_frequency = ema_overwrite_frequency
        self.gradient_accumulation_steps = gradient_accumulation_steps
        # Host copy of `iterations`: decides accumulation/EMA steps without reading the device.
        self._host_iterations = 0
        self._host_count_stale = False
        self.name = name or unique_name(to_snake_case(type(self).__name__))
        self.weight_decay = weight_decay
        self.clipnorm = clipnorm
        self.clipvalue = clipvalue
        self.global_clipnorm = global_clipnorm
        self.loss_scale_factor = loss_scale_factor
        self.built = False
        self._slots: dict[str, list[torch.Tensor]] = {}
        self._slot_variables: list = []
        self._trainable_variables: list[torch.Tensor] = []
        self._index: dict[int, int] = {}
        self._plans: dict[tuple[int, ...], list] = {}
        self._exclude_ids: set[int] = set()
        self._exclude_pattern: re.Pattern | None = None
        self._iterations = _variable(0, "iteration", dtype="int32")
        self._learning_rate = self._make_learning_rate(learning_rate)

    # ------------------------------------------------------------------------------------
    # Learning rate and counters
    # ------------------------------------------------------------------------------------

    @property
    def reads_host_each_step(self) -> bool:
        """Whether an update depends on host-side step counting, so that `fit` must not
        replay it from a CUDA graph (a replay repeats what was captured): gradient
        accumulation (accumulate or apply) and EMA overwrites every N updates.

        Example:
        >>> import tritonlayers as keras
        >>> keras.optimizers.SGD().reads_host_each_step
        False
        >>> keras.optimizers.SGD(gradient_accumulation_steps=2).reads_host_each_step
        True
        """
        overwrites = self.use_ema and bool(self.ema_overwrite_frequency)
        return bool(self.gradient_accumulation_steps) or overwrites

    def _make_learning_rate(self, learning_rate):
        if isinstance(learning_rate, schedules.LearningRateSchedule) or callable(learning_rate):
            return learning_rate
        if isinstance(learning_rate, torch.Tensor):
            learning_rate = learning_rate.detach()
        elif not isinstance(learning_rate, (int, float, np.floating, np.integer)):
            raise ValueError(
                "Argument `learning_rate` should be float, or an instance of "
                "LearningRateSchedule, or a callable (that takes in the current iteration value "
                "and returns the corresponding learning rate value). Received instead: "
                f"learning_rate={learning_rate}"
            )
        return _variable(
            torch.as_tensor(float(learning_rate), dtype=torch.float32),
            "learning_rate",
            device=self._iterations.device,
            dtype="float32",
        )

    @property
    def iterations(self):
        """How many updates were applied: an int32 Variable on the device (as in Keras's
        torch backend); with `gradient_accumulation_steps`, the calls so far floor-divided
        by it (a tensor), as Keras counts them."""
        if self.gradient_accumulation_steps:
            return torch.div(
                self._iterations, self.gradient_accumulation_steps, rounding_mode="floor"
            )
        return self._iterations

    @iterations.setter
    def iterations(self, value) -> None:
        self._iterations.assign(value)
        self._host_iterations = int(self._iterations)
        self._host_count_stale = False

    @property
    def learning_rate(self) -> torch.Tensor:
        """The current rate as a device tensor (the schedule's value at `iterations`)."""
        return self._current_learning_rate()

    @learning_rate.setter
    def learning_rate(self, value) -> None:
        if isinstance(value, schedules.LearningRateSchedule) or callable(value):
            self._learning_rate = value
        elif isinstance(self._learning_rate, torch.Tensor):
            self._learning_rate.assign(value)
        elif isinstance(self._learning_rate, schedules.LearningRateSchedule):
            raise TypeError(
                "This optimizer was created with a `LearningRateSchedule` object as its "
                "`learning_rate` constructor argument, hence its learning rate is not "
                "settable. If you need the learning rate to be settable, you should "
                "instantiate the optimizer with a float `learning_rate` argument."
            )
        else:
            self._learning_rate = self._make_learning_rate(value)

    def _current_learning_rate(self) -> torch.Tensor:
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            return self._learning_rate(self._iterations)
        if isinstance(self._learning_rate, torch.Tensor):
            return self._learning_rate
        return torch.as_tensor(self._learning_rate(), dtype=torch.float32)

    # ------------------------------------------------------------------------------------
    # State
    # ------------------------------------------------------------------------------------

    @property
    def variables(self) -> list:
        """`iterations`, the learning-rate Variable (if any), then every state slot."""
        head = [self._iterations]
        if isinstance(self._learning_rate, torch.Tensor):
            head.append(self._learning_rate)
        return head + list(self._slot_variables)

    def build(self, var_list: Iterable[torch.Tensor]) -> None:
        """Create the state for `var_list` once; later calls do nothing (as in Keras)."""
        if self.built:
            return
        self._trainable_variables = list(var_list)
        self._index = {id(v): i for i, v in enumerate(self._trainable_variables)}
        self.built = True
        if self.use_ema:
            self.add_slots(self._trainable_variables, "average")
        if self.gradient_accumulation_steps:
            self.add_slots(self._trainable_variables, "gradient_accumulator")
        self._create_slots()

    def _create_slots(self) -> None:
        """Hook: add the optimizer's own state with `add_slots` (default: none, like SGD)."""

    def add_slots(self, var_list, slot_name: str, initial_value: float = 0.0) -> list:
        """One state tensor per variable, same shape, dtype and device, filled with a value."""
        slots = []
        for var in var_list:
            base = getattr(var, "name", None) or f"variable_{len(slots)}"
            slot = _variable(
                torch.full_like(var.detach(), initial_value),
                f"{base}_{slot_name}".replace("/", "_"),
                device=var.device,
                dtype=_dtype_name(var),
            )
            slots.append(slot)
        self._slots[slot_name] = slots
        self._slot_variables.extend(slots)
        return slots

    def add_scalar(self, name: str, initial_value: float, like: torch.Tensor | None = None):
        """A scalar float state Variable (e.g. Nadam's running momentum product)."""
        device = like.device if like is not None else self._iterations.device
        dtype = _dtype_name(like) if like is not None else config.floatx()
        scalar = _variable(torch.tensor(float(initial_value)), name, device=device, dtype=dtype)
        self._slot_variables.append(scalar)
        return scalar

    def exclude_from_weight_decay(self, var_list=None, var_names=None) -> None:
        """Skip weight decay for these variables, or for names containing any of `var_names`."""
        if self.built:
            raise ValueError(
                "`exclude_from_weight_decay()` can only be configured before the optimizer "
                "is built."
            )
        self._exclude_ids = {id(v) for v in var_list or ()}
        self._exclude_pattern = re.compile("|".join(set(var_names))) if var_names else None

    def _use_weight_decay(self, variable) -> bool:
        if id(variable) in self._exclude_ids:
            return False
        name = getattr(variable, "name", "") or ""
        return not (self._exclude_pattern is not None and self._exclude_pattern.search(name))

    # ------------------------------------------------------------------------------------
    # Applying gradients
    # ------------------------------------------------------------------------------------

    def apply_gradients(self, grads_and_vars) -> None:
        """Apply `[(gradient, variable), ...]` (Keras's form).

        Example:
        >>> import torch, tritonlayers as keras
        >>> w = keras.Variable(torch.zeros(1), name="w")
        >>> keras.optimizers.SGD(0.1).apply_gradients([(torch.ones(1), w)])
        >>> round(w.numpy().item(), 4)
        -0.1
        """
        pairs = list(grads_and_vars)
        self.apply([g for g, _ in pairs], [v for _, v in pairs])

    def apply(self, grads, trainable_variables=None) -> None:
        """Apply `grads` to `trainable_variables` (or to the variables it was built with)."""
        grads = list(grads)
        if not grads:
            return
        if trainable_variables is None:
            if not self.built:
                raise ValueError(
                    "When passing `grads` without `variables`, the optimizer must already be "
                    "built on a list of variables. Call `optimizer.build(trainable_variables)` "
                    "first."
                )
            if len(grads) != len(self._trainable_variables):
                raise ValueError(
                    "When passing `grads` as a list of gradient tensors, the gradients must "
                    "match `optimizer.variables` one-to-one. Received a list of "
                    f"{len(grads)} gradients, but the optimizer is tracking "
                    f"{len(self._trainable_variables)} trainable variables."
                )
            trainable_variables = self._trainable_variables
        else:
            trainable_variables = list(trainable_variables)
            if len(grads) != len(trainable_variables):
                raise ValueError(
                    f"Got {len(grads)} gradients for {len(trainable_variables)} variables; "
                    "expected one gradient per variable."
                )
            if not self.built:
                self.build(trainable_variables)
            self._check_known(trainable_variables)
        pairs = [(g, v) for g, v in zip(grads, trainable_variables) if g is not None]
        with torch.no_grad():
            self._run_step([v for _, v in pairs], [_as_grad(g, v) for g, v in pairs])

    def scale_loss(self, loss: torch.Tensor) -> torch.Tensor:
        """The loss to differentiate: `loss * loss_scale_factor` when that is set (the update
        divides the gradients by it again), else `loss`. `fit` calls it before `backward()`.

        Example:
        >>> import torch, tritonlayers as keras
        >>> float(keras.optimizers.SGD(loss_scale_factor=8.0).scale_loss(torch.tensor(0.5)))
        4.0
        """
        if self.loss_scale_factor is None:
            return loss
        return loss * self.loss_scale_factor

    def step(self, trainable_variables) -> None:
        """The trainer's fast path: update from each variable's `.grad`, then clear `.grad`.

        Call after `loss.backward()`. No host sync: the rate, clipping norms and counters
        stay on the device.

        Example:
        >>> import torch, tritonlayers as keras
        >>> w = keras.Variable(torch.ones(1), name="w")
        >>> (3 * w).sum().backward()
        >>> keras.optimizers.SGD(0.1).step([w])
        >>> round(w.numpy().item(), 4), w.grad is None
        (0.7, True)
        """
        trainable_variables = list(trainable_variables)
        if not self.built:
            self.build(trainable_variables)
        params = [v for v in trainable_variables if v.grad is not None]
        self._check_known(params)
        with torch.no_grad():
            self._run_step(params, [v.grad for v in params])
        for v in trainable_variables:
            v.grad = None

    def _run_step(self, params: list, grads: list) -> None:
        """One call's work: accumulate or update, moving averages, then `iterations += 1`."""
        steps = self.gradient_accumulation_steps
        if params and steps:
            accumulated = self._slot("gradient_accumulator", [self._index[id(p)] for p in params])
            if (self._host_iterations + 1) % steps:
                torch._foreach_add_(accumulated, grads)
                params = []
            else:
                # The update uses the mean gradient of the last `steps` calls.
                grads = torch._foreach_add(accumulated, grads)
                torch._foreach_div_(grads, float(steps))
                torch._foreach_zero_(accumulated)
        if params:
            self._apply_update(params, grads)
            if self._host_iterations % _FLUSH_EVERY == _FLUSH_EVERY - 1:
                self._flush_tiny_state()
        if self.use_ema:
            self._update_moving_averages()
        self._iterations.add_(1)
        if steps or self.use_ema or not torch.compiler.is_compiling():
            self._host_iterations += 1
        else:
            # Inside torch.compile, touching the host count would specialise (and recompile)
            # the step on its value; mark it stale and re-read it when eager code needs it.
            self._host_count_stale = True

    def _flush_tiny_state(self) -> None:
        """Zero CPU state entries below `_TINY` in magnitude (eager mode only).

        A moment whose gradient stays zero (a dead ReLU's weights) decays geometrically
        into float32's subnormal range (below 1.2e-38) after several hundred steps, and
        x86 CPUs compute with subnormals many times slower: the guide's VAE's Adam step
        took 2.5x longer from step ~800 on. An entry below 1e-30 moves its variable by less
        than float32 can represent, so zeroing it changes no result; TensorFlow gets the
        same effect by flushing subnormals to zero on the CPU.
        """
        if torch.compiler.is_compiling():
            return
        for state in self._slot_variables:
            if state.device.type == "cpu" and state.is_floating_point():
                state.masked_fill_(state.abs() < _TINY, 0.0)

    def _host_updates(self) -> int:
        """Updates applied so far, counted on the host (re-read once after compiled steps)."""
        if self._host_count_stale:
            self._host_iterations = int(self._iterations)
            self._host_count_stale = False
        return self._host_iterations // (self.gradient_accumulation_steps or 1)

    def _update_moving_averages(self) -> None:
        """`average = m * average + (1 - m) * var` (m = 0 on the first step), as Keras does."""
        updates = self._host_updates()
        momentum = self.ema_momentum if updates else 0.0
        variables, averages = self._trainable_variables, self._slots["average"]
        torch._foreach_mul_(averages, momentum)
        torch._foreach_add_(averages, torch._foreach_mul(variables, 1.0 - momentum))
        frequency = self.ema_overwrite_frequency
        if frequency and (updates + 1) % frequency == 0:
            torch._foreach_copy_(variables, averages)

    def finalize_variable_values(self, var_list) -> None:
        """With `use_ema=True`, give the variables their moving averages (end of `fit`).

        Example:
        >>> import torch, tritonlayers as keras
        >>> w = keras.Variable(torch.zeros(1), name="w")
        >>> opt = keras.optimizers.SGD(1.0, use_ema=True, ema_momentum=0.5)
        >>> for _ in range(2):
        ...     opt.apply([torch.ones(1)], [w])
        >>> opt.finalize_variable_values([w])
        >>> round(w.numpy().item(), 4)
        -1.5
        """
        if not self.use_ema:
            return
        with torch.no_grad():
            for variable in var_list:
                variable.copy_(self._slots["average"][self._index[id(variable)]])

    def _check_known(self, variables) -> None:
        unknown = [
            getattr(v, "path", tuple(v.shape)) for v in variables if id(v) not in self._index
        ]
        if unknown:
            raise ValueError(
                f"Unknown variable(s) {unknown}: this optimizer can only be called for the "
                "variables it was originally built with. When working with a new set of "
                "variables, you should recreate a new optimizer instance."
            )

    def _apply_update(self, params: list, grads: list) -> None:
        if self.loss_scale_factor is not None:
            grads = torch._foreach_div(grads, float(self.loss_scale_factor))
        grads = self._clip(grads)
        lr = self._current_learning_rate()
        if self.weight_decay:
            decayed = [p for p in params if self._use_weight_decay(p)]
            if decayed:
                factor = 1.0 - self.weight_decay * lr.to(decayed[0].device)
                torch._foreach_mul_(decayed, factor.to(decayed[0].dtype))
        updates = self._iterations
        if self.gradient_accumulation_steps:
            # Keras counts optimizer steps in updates, not calls (schedules still see calls).
            updates = torch.div(updates, self.gradient_accumulation_steps, rounding_mode="floor")
        step = (updates + 1).to(torch.float32)
        self._before_update(step)
        for group, indices in self._plan(params):
            group_params = [params[i] for i in group]
            like = group_params[0]
            group_grads = [grads[i] for i in group]
            if any(g.dtype != like.dtype for g in group_grads):
                group_grads = [g.to(like.dtype) for g in group_grads]
            self._update_group(
                group_params,
                group_grads,
                indices,
                lr.to(device=like.device, dtype=like.dtype),
                step.to(device=like.device, dtype=like.dtype),
            )
        for p in params:
            constraint = getattr(p, "constraint", None)
            if constraint is not None:
                p.copy_(constraint(p))

    def _plan(self, params: list) -> list[tuple[list[int], list[int]]]:
        """(positions in `params`, state indices) per (device, dtype) group, cached per list."""
        key = tuple(map(id, params))
        plan = self._plans.get(key)
        if plan is None:
            plan = [
                (group, [self._index[id(params[i])] for i in group]) for group in _groups(params)
            ]
            self._plans[key] = plan
        return plan

    def _clip(self, grads: list) -> list:
        if self.clipnorm:
            # Per tensor: g * clipnorm / max(||g||, clipnorm).
            norms = torch._foreach_norm(grads)
            scales = [self.clipnorm / torch.clamp(n, min=self.clipnorm) for n in norms]
            return torch._foreach_mul(grads, scales)
        if self.global_clipnorm:
            # All tensors: g * clip * min(1 / global_norm, 1 / clip); NaN if the norm is not finite.
            norms = torch._foreach_norm(grads)
            total = torch.linalg.vector_norm(torch.stack([n.to(grads[0].device) for n in norms]))
            clip = self.global_clipnorm
            scale = clip * torch.minimum(1.0 / total, torch.tensor(1.0 / clip)) + (total - total)
            return torch._foreach_mul(grads, [scale.to(g.device, g.dtype) for g in grads])
        if self.clipvalue:
            v = self.clipvalue
            return [torch.clamp(g, -v, v) for g in grads]
        return grads

    def _before_update(self, step: torch.Tensor) -> None:
        """Hook run once per update before the per-variable rule; state shared by all."""

    def _update_group(self, params, grads, indices, lr, step) -> None:
        raise TypeError(f"{type(self).__name__} must implement `_update_group`.")

    def _slot(self, slot_name: str, indices: list[int]) -> list[torch.Tensor]:
        slots = self._slots[slot_name]
        return [slots[i] for i in indices]

    # ------------------------------------------------------------------------------------
    # Config and state dict
    # ------------------------------------------------------------------------------------

    def get_config(self) -> dict:
        """The constructor arguments (a schedule is serialized as a Keras config dict)."""
        if isinstance(self._learning_rate, schedules.LearningRateSchedule):
            from ..saving import serialization_lib

            learning_rate = serialization_lib.serialize_keras_object(self._learning_rate)
        elif isinstance(self._learning_rate, torch.Tensor):
            learning_rate = float(self._learning_rate)
        else:
            learning_rate = self._learning_rate
        return {
            "name": self.name,
            "learning_rate": learning_rate,
            "weight_decay": self.weight_decay,
            "clipnorm": self.clipnorm,
            "global_clipnorm": self.global_clipnorm,
            "clipvalue": self.clipvalue,
            "use_ema": self.use_ema,
            "ema_momentum": self.ema_momentum,
            "ema_overwrite_frequency": self.ema_overwrite_frequency,
            "loss_scale_factor": self.loss_scale_factor,
            "gradient_accumulation_steps": self.gradient_accumulation_steps,
        }

    @classmethod
    def from_config(cls, config: dict, custom_objects: dict | None = None) -> "Optimizer":
        """Rebuild an optimizer from `get_config()` (schedules included)."""
        config = dict(config)
        if isinstance(config.get("learning_rate"), dict):
            config["learning_rate"] = schedules.deserialize(
                config["learning_rate"], custom_objects=custom_objects
            )
        return cls(**config)

    def state_dict(self) -> dict[str, torch.Tensor]:
        """`{"0": iterations, "1": ..., }`: every Variable in `variables`, in order."""
        return {str(i): v.detach().clone() for i, v in enumerate(self.variables)}

    def load_state_dict(self, state: dict) -> None:
        """Restore `state_dict()` output; the optimizer must be built on the same variables."""
        variables = self.variables
        if sorted(state, key=str) != sorted(str(i) for i in range(len(variables))):
            raise ValueError(
                f"Optimizer '{self.name}' has {len(variables)} variables but the state holds "
                f"{len(state)}. Build the optimizer on the model's trainable variables first "
                "(e.g. `optimizer.build(model.trainable_variables)`)."
            )
        values = [_as_tensor(state[str(i)]) for i in range(len(variables))]
        for variable, value in zip(variables, values):
            if tuple(value.shape) != tuple(variable.shape):
                raise ValueError(
                    f"Optimizer variable {getattr(variable, 'name', '?')} has shape "
                    f"{tuple(variable.shape)} not compatible with provided weight shape "
                    f"{tuple(value.shape)}."
                )
        with torch.no_grad():
            for variable, value in zip(variables, values):
                variable.copy_(value)
        self._host_iterations = int(self._iterations)
        self._host_count_stale = False

    def __repr__(self) -> str:
        return f"<{type(self).__name__} name={self.name!r}>"


def _as_tensor(value) -> torch.Tensor:
    if isinstance(value, torch.Tensor):
        return value.detach()
    return torch.as_tensor(np.asarray(value))


def _as_grad(grad, variable) -> torch.Tensor:
    if isinstance(grad, torch.Tensor):
        return grad.detach().to(device=variable.device)
    return torch.as_tensor(np.asarray(grad), device=variable.device)


def _groups(params: list) -> list[list[int]]:
    """Indices of `params` grouped by (device, dtype): each group is one foreach launch."""
    groups: dict[tuple, list[int]] = {}
    for i, p in enumerate(params):
        groups.setdefault((p.device, p.dtype), []).append(i)
    return list(groups.values())
