"""The one place that decides whether an op runs its Triton kernel or its torch reference.

The kernel mode is "auto" (Triton for CUDA tensors, torch otherwise), "triton" (always
Triton; CPU tensors are allowed only under ``TRITON_INTERPRET=1``) or "torch" (always the
torch reference). ``TRITONLAYERS_KERNELS`` gives the starting value.
"""

import os

import torch

KERNEL_MODES = ("auto", "triton", "torch")


def _checked_mode(mode: str) -> str:
    if mode not in KERNEL_MODES:
        raise ValueError(f"Kernel mode must be one of {KERNEL_MODES}; received {mode!r}.")
    return mode


_mode = _checked_mode(os.environ.get("TRITONLAYERS_KERNELS", "auto"))


def set_kernel_mode(mode: str) -> None:
    """Choose how ops run: "auto", "triton" or "torch".

    Example:
    >>> from tritonlayers.kernels import set_kernel_mode, kernel_mode
    >>> set_kernel_mode("torch"); kernel_mode()
    'torch'
    >>> set_kernel_mode("auto")
    """
    global _mode
    _mode = _checked_mode(mode)


def kernel_mode() -> str:
    """The current kernel mode ("auto", "triton" or "torch")."""
    return _mode


def interpreting() -> bool:
    """Whether Triton runs kernels in its CPU interpreter (``TRITON_INTERPRET=1``)."""
    return os.environ.get("TRITON_INTERPRET", "0") == "1"


def use_triton(*tensors: torch.Tensor) -> bool:
    """Whether an op on these tensors should run its Triton kernel.

    Raises when they sit on different devices, or when mode "triton" is asked for CPU
    tensors without the interpreter.
    """
    devices = {t.device for t in tensors}
    if len(devices) > 1:
        found = sorted(map(str, devices))
        raise ValueError(f"All tensors of one op must be on the same device; received {found}.")
    if _mode == "torch":
        return False
    on_cuda = all(t.is_cuda for t in tensors)
    if _mode == "auto":
        return on_cuda
    if on_cuda or interpreting():
        return True
    raise RuntimeError(
        "Kernel mode 'triton' needs CUDA tensors, or TRITON_INTERPRET=1 set before triton is "
        "imported to run the kernels on the CPU. Use set_kernel_mode('auto') or 'torch' here."
    )
