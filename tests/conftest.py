"""Test session set-up.

Without a GPU the real Triton kernels run on CPU tensors in Triton's interpreter, which must
be switched on before triton is first imported. With a GPU they run compiled, and the
interpreter-only tests are skipped.
"""

import os

import torch

if not torch.cuda.is_available():
    os.environ.setdefault("TRITON_INTERPRET", "1")

import pytest  # noqa: E402

import tritonlayers  # noqa: E402

INTERPRETING = os.environ.get("TRITON_INTERPRET") == "1"


def pytest_collection_modifyitems(config, items):
    no_gpu = pytest.mark.skip(reason="needs a CUDA GPU")
    no_interpreter = pytest.mark.skip(reason="needs TRITON_INTERPRET=1 (CPU-side kernel test)")
    for item in items:
        if "gpu" in item.keywords and not torch.cuda.is_available():
            item.add_marker(no_gpu)
        if "interpret" in item.keywords and not INTERPRETING:
            item.add_marker(no_interpreter)


@pytest.fixture(autouse=True)
def _fresh_global_state():
    """Every test starts from the default kernel mode, dtype policy and seeds."""
    mode = tritonlayers.config.kernel_mode()
    torch.manual_seed(0)
    yield
    tritonlayers.config.set_kernel_mode(mode)
