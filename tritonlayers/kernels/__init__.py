"""Fused Triton ops with torch references; they know nothing of Layer or Model.

Each op dispatches through ``_dispatch.use_triton``: Triton kernels for CUDA tensors, the
torch reference elsewhere (or as ``set_kernel_mode`` says).
"""

from ._dispatch import KERNEL_MODES, kernel_mode, set_kernel_mode
from .dropout import dropout
from .fused_linear import fused_linear
from .random_fill import random_bits, random_normal, random_uniform
from .sampling import reparameterize, reparameterize_with_kl

__all__ = [
    "KERNEL_MODES",
    "dropout",
    "fused_linear",
    "kernel_mode",
    "random_bits",
    "random_normal",
    "random_uniform",
    "reparameterize",
    "reparameterize_with_kl",
    "set_kernel_mode",
]
