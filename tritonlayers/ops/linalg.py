"""The linear-algebra ops of ``keras.ops``: decompositions, solves, determinants.

They act on the last two axes (batched over the leading ones) and cast ints to floatx.

Example:
>>> import tritonlayers as keras
>>> keras.ops.solve([[2.0, 0.0], [0.0, 4.0]], [[2.0], [2.0]]).tolist()
[[1.0], [0.5]]
"""

from typing import Any

import torch

from ._utils import floating, pair

Tensor = torch.Tensor

__all__ = [
    "cholesky",
    "cholesky_inverse",
    "det",
    "eig",
    "eigh",
    "inv",
    "lstsq",
    "logdet",
    "lu_factor",
    "matrix_rank",
    "pinv",
    "qr",
    "slogdet",
    "solve",
    "solve_triangular",
    "svd",
]


def _square_matrices(x: Tensor) -> Tensor:
    """``x``, checked to be a (batch of) square matrices, with Keras's error wording."""
    if x.ndim < 2:
        raise ValueError(f"Expected input to have rank >= 2. Received input with shape {x.shape}.")
    if x.shape[-2] != x.shape[-1]:
        raise ValueError(
            f"Expected a square matrix. Received non-square input with shape {x.shape}"
        )
    return x


def cholesky(x: Any, upper: bool = False) -> Tensor:
    """The Cholesky factor of a symmetric positive-definite matrix (lower unless ``upper``).

    Example: ``keras.ops.cholesky([[4.0, 2.0], [2.0, 3.0]])``
    """
    return torch.linalg.cholesky(_square_matrices(floating(x)), upper=upper)


def det(x: Any) -> Tensor:
    """The determinant.

    Example: ``keras.ops.det([[1.0, 2.0], [3.0, 4.0]])``
    """
    return torch.linalg.det(_square_matrices(floating(x)))


def slogdet(x: Any) -> tuple[Tensor, Tensor]:
    """The sign and the log of the absolute value of the determinant.

    Example: ``keras.ops.slogdet([[1.0, 2.0], [3.0, 4.0]])``
    """
    sign, logabsdet = torch.linalg.slogdet(floating(x))
    return sign, logabsdet


def inv(x: Any) -> Tensor:
    """The matrix inverse.

    Example: ``keras.ops.inv([[2.0, 0.0], [0.0, 4.0]])``
    """
    return torch.linalg.inv(_square_matrices(floating(x)))


def eig(x: Any) -> tuple[Tensor, Tensor]:
    """Eigenvalues and right eigenvectors of a general matrix (complex).

    Example: ``keras.ops.eig([[2.0, 0.0], [0.0, 3.0]])``
    """
    values, vectors = torch.linalg.eig(_square_matrices(floating(x)))
    return values, vectors


def eigh(x: Any) -> tuple[Tensor, Tensor]:
    """Eigenvalues (ascending) and eigenvectors of a symmetric matrix.

    Example:
    >>> import tritonlayers as keras
    >>> keras.ops.eigh([[2.0, 0.0], [0.0, 1.0]])[0].tolist()
    [1.0, 2.0]
    """
    values, vectors = torch.linalg.eigh(_square_matrices(floating(x)))
    return values, vectors


def lu_factor(x: Any) -> tuple[Tensor, Tensor]:
    """The packed LU factorization and 0-based int32 pivots (row ``i`` swapped with
    ``pivots[i]``).

    Example: ``keras.ops.lu_factor([[0.0, 1.0], [1.0, 0.0]])``
    """
    lu, pivots = torch.linalg.lu_factor(floating(x))
    return lu, (pivots - 1).to(torch.int32)


def qr(x: Any, mode: str = "reduced") -> tuple[Tensor, Tensor]:
    """The QR decomposition; ``mode`` is "reduced" or "complete".

    Example: ``keras.ops.qr(keras.ops.eye(3))``
    """
    if mode not in ("reduced", "complete"):
        raise ValueError(
            f"`mode` argument value not supported. Expected one of {{'reduced', 'complete'}}. "
            f"Received: mode={mode}"
        )
    q, r = torch.linalg.qr(floating(x), mode=mode)
    return q, r


def svd(x: Any, full_matrices: bool = True, compute_uv: bool = True):
    """Singular values (and ``u``, ``vh`` when ``compute_uv``): ``x = u @ diag(s) @ vh``.

    Example: ``keras.ops.svd(keras.ops.eye(2))``
    """
    x = floating(x)
    if not compute_uv:
        return torch.linalg.svdvals(x)
    u, s, vh = torch.linalg.svd(x, full_matrices=full_matrices)
    return u, s, vh


def _as_matrix_rhs(a: Tensor, b: Tensor) -> tuple[Tensor, bool]:
    """``b`` with a trailing column axis when it is a vector (one axis fewer than ``a``)."""
    return (b.unsqueeze(-1), True) if b.ndim == a.ndim - 1 else (b, False)


def solve(a: Any, b: Any) -> Tensor:
    """``x`` with ``a @ x = b`` for square ``a``; ``b`` may be a vector or a matrix.

    Example: ``keras.ops.solve([[2.0, 0.0], [0.0, 4.0]], [2.0, 2.0])`` gives ``[1.0, 0.5]``.
    """
    a, b = pair(_square_matrices(floating(a)), floating(b))
    return torch.linalg.solve(a, b)


def solve_triangular(a: Any, b: Any, lower: bool = False) -> Tensor:
    """``x`` with ``a @ x = b`` for triangular ``a`` (upper unless ``lower``).

    Example: ``keras.ops.solve_triangular([[2.0, 1.0], [0.0, 1.0]], [3.0, 1.0])``
    """
    a, b = pair(_square_matrices(floating(a)), floating(b))
    b, was_vector = _as_matrix_rhs(a, b)
    x = torch.linalg.solve_triangular(a, b, upper=not lower)
    return x.squeeze(-1) if was_vector else x


def lstsq(a: Any, b: Any, rcond: "float | None" = None) -> Tensor:
    """The least-squares solution of ``a @ x = b``.

    Example: ``keras.ops.lstsq([[1.0, 0.0], [0.0, 1.0], [1.0, 1.0]], [1.0, 1.0, 2.0])``
    """
    a, b = pair(floating(a), floating(b))
    b, was_vector = _as_matrix_rhs(a, b)
    driver = None if a.is_cuda else "gelsd"
    x = torch.linalg.lstsq(a, b, rcond=rcond, driver=driver).solution
    return x.squeeze(-1) if was_vector else x


def cholesky_inverse(x: Any, upper: bool = False) -> Tensor:
    """The inverse of ``L @ L.T`` from its Cholesky factor ``L`` (``U.T @ U`` if ``upper``).

    Example: ``keras.ops.cholesky_inverse([[2.0, 0.0], [1.0, 1.0]])``
    """
    return torch.cholesky_inverse(_square_matrices(floating(x)), upper=upper)


def logdet(x: Any) -> Tensor:
    """The log of the determinant (NaN for a negative determinant).

    Example: ``keras.ops.logdet([[2.0, 0.0], [0.0, 3.0]])``
    """
    return torch.logdet(floating(x))


def pinv(x: Any, rcond: "float | None" = None) -> Tensor:
    """The Moore-Penrose pseudo-inverse. Example: ``keras.ops.pinv([[1.0, 2.0]])``."""
    x = floating(x)
    return torch.linalg.pinv(x) if rcond is None else torch.linalg.pinv(x, rtol=rcond)


def matrix_rank(x: Any, tol: "float | None" = None) -> Tensor:
    """The rank (int32): how many singular values exceed ``tol`` (default: numpy's rule).

    Example: ``keras.ops.matrix_rank([[1.0, 2.0], [2.0, 4.0]])``
    """
    x = floating(x)
    rank = torch.linalg.matrix_rank(x, atol=tol, rtol=None if tol is None else 0.0)
    return rank.to(torch.int32)
