"""What `Layer.__call__` needs to know about a layer class's `call` and `build` signatures.

Read once per class with `inspect` and cached, so the per-call path never inspects.

Example:
>>> import tritonlayers as keras
>>> class Drop(keras.Layer):
...     def call(self, x, training=False, mask=None):
...         return x
>>> spec = call_spec_of(Drop)
>>> spec.has_training, spec.training_default, spec.has_mask
(True, False, True)
"""

import inspect

_SPECS: "dict[type, CallSpec]" = {}


class CallSpec:
    """The facts about `cls.call` / `cls.build` / `cls.__init__` that the call path uses.

    Example:
    >>> import tritonlayers as keras
    >>> CallSpec(keras.Layer, keras.Layer).build_default
    True
    """

    __slots__ = (
        "arg_names",
        "layer_class",
        "build_default",
        "build_params",
        "build_required",
        "compute_mask_default",
        "has_mask",
        "has_training",
        "init_params",
        "init_signature",
        "mask_args",
        "training_default",
    )

    def __init__(self, cls: type, base: type):
        self.layer_class = cls
        params = list(inspect.signature(cls.call).parameters.values())[1:]
        self.arg_names = tuple(
            p.name for p in params if p.kind in (p.POSITIONAL_ONLY, p.POSITIONAL_OR_KEYWORD)
        )
        names = {p.name: p for p in params}
        self.has_training = "training" in names
        default = names["training"].default if self.has_training else None
        self.training_default = None if default is inspect.Parameter.empty else default
        self.has_mask = "mask" in names
        self.mask_args = tuple(n for n in self.arg_names if f"{n}_mask" in names)
        self.build_default = cls.build is base.build
        build_params = list(inspect.signature(cls.build).parameters.values())[1:]
        self.build_params = tuple(p.name for p in build_params)
        self.build_required = tuple(p.name for p in build_params if p.default is p.empty)
        self.compute_mask_default = cls.compute_mask is base.compute_mask
        self.init_signature = inspect.signature(cls.__init__)
        self.init_params = self.init_signature.parameters

    def __reduce__(self):
        # Shared per class: copies and pickles of a layer look the spec up again.
        return (call_spec_of, (self.layer_class,))

    def __deepcopy__(self, memo: dict) -> "CallSpec":
        return self


def call_spec_of(cls: type) -> CallSpec:
    """The cached CallSpec of a Layer subclass.

    Example:
    >>> import tritonlayers as keras
    >>> call_spec_of(keras.Layer) is call_spec_of(keras.Layer)
    True
    """
    spec = _SPECS.get(cls)
    if spec is None:
        from .layer import Layer

        spec = _SPECS[cls] = CallSpec(cls, Layer)
    return spec
