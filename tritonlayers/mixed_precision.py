"""`keras.mixed_precision`: Keras 3's names for the global dtype policy.

Example:
>>> import tritonlayers as keras
>>> keras.mixed_precision.set_global_policy("mixed_bfloat16")
>>> keras.mixed_precision.global_policy().compute_dtype
'bfloat16'
>>> keras.mixed_precision.set_global_policy("float32")
"""

from .dtype_policies import DTypePolicy, dtype_policy, set_dtype_policy
from .optimizers.loss_scale_optimizer import LossScaleOptimizer

Policy = DTypePolicy
global_policy = dtype_policy
set_global_policy = set_dtype_policy

__all__ = [
    "DTypePolicy",
    "LossScaleOptimizer",
    "Policy",
    "dtype_policy",
    "global_policy",
    "set_dtype_policy",
    "set_global_policy",
]
