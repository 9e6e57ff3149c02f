"""Decomposition of dense tensors into the flat formats (NumPy; for converting trained weights).

Every function takes a tensor with one axis per factor group (``networks.matrix_to_group_tensor``) and
returns a ``Decomposition``: the factors with group axes merged, the ranks used and the relative Frobenius
error ``||A - approx|| / ||A||``.

* ``tt_svd``: TT-SVD (Oseledets, SIAM J. Sci. Comput. 33(5), 2011, Alg. 1) with rank caps and/or a
  tolerance. Each of the ``D - 1`` truncations may discard ``rtol ||A|| / sqrt(D - 1)``; the cores to the
  left are orthonormal, so the squared errors add up and the reported error is exact. Cost: ``D`` SVDs,
  the first of a ``n_1 x prod(n)/n_1`` matrix.
* ``st_hosvd``: sequentially truncated HOSVD for Tucker (Vannieuwenhoven et al., SIAM J. Sci. Comput.
  34(2), 2012); errors add up the same way (exact).
* ``block_term``: ``blocks`` Tucker terms fitted greedily, each an ST-HOSVD of the residual left by the
  previous ones (the error is measured).
* ``cp_als``: CP by alternating least squares, started from the leading singular vectors (measured error).
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass

import numpy as np


@dataclass
class Decomposition:
    factors: list
    ranks: tuple
    relative_error: float


def _caps(max_rank, count: int) -> list:
    if max_rank is None:
        return [None] * count
    if isinstance(max_rank, int) or np.isscalar(max_rank):
        return [int(max_rank)] * count
    caps = [int(r) for r in max_rank]
    if len(caps) != count:
        raise ValueError(f"max_rank needs {count} values, got {len(caps)}.")
    return caps


def _truncation(singular_values, cap, budget_sq: float) -> int:
    """Smallest rank whose discarded squared singular values fit ``budget_sq``, at most ``cap``, at least 1."""
    tail = np.cumsum((singular_values**2)[::-1])[::-1]  # tail[r] = sum of s_k^2 for k >= r
    rank = next((r for r in range(1, len(singular_values)) if tail[r] <= budget_sq), len(singular_values))
    return max(1, min(rank, cap if cap is not None else rank))


def _norm(tensor) -> float:
    return float(np.linalg.norm(tensor.ravel()))


def tt_svd(tensor, max_rank=None, rtol: float | None = None) -> Decomposition:
    """Cores ``(r_{k-1}, n_k, r_k)`` with ``r_0 = r_D = 1``; ``max_rank``: one int or ``D - 1`` caps."""
    tensor = np.asarray(tensor, dtype=np.float64)
    dims = tensor.shape
    count = len(dims)
    caps = _caps(max_rank, count - 1)
    norm = _norm(tensor)
    budget_sq = (rtol * norm) ** 2 / max(1, count - 1) if rtol is not None else 0.0
    cores, ranks, discarded = [], [1], 0.0
    rest = tensor
    for k in range(count - 1):
        rest = rest.reshape(ranks[-1] * dims[k], -1)
        u, s, vt = np.linalg.svd(rest, full_matrices=False)
        r = _truncation(s, caps[k], budget_sq)
        discarded += float((s[r:] ** 2).sum())
        cores.append(u[:, :r].reshape(ranks[-1], dims[k], r))
        rest = s[:r, None] * vt[:r]
        ranks.append(r)
    cores.append(rest.reshape(ranks[-1], dims[-1], 1))
    ranks.append(1)
    return Decomposition(cores, tuple(ranks), math.sqrt(discarded) / norm if norm else 0.0)


def _mode_product(tensor, matrix, axis: int) -> np.ndarray:
    """``tensor x_axis matrix.T``: contract axis ``axis`` of ``tensor`` with the rows of ``matrix``."""
    return np.moveaxis(np.tensordot(tensor, matrix, axes=([axis], [0])), -1, axis)


def st_hosvd(tensor, max_rank=None, rtol: float | None = None) -> Decomposition:
    """Tucker: factors ``[core (r_1..r_D), U_1 (n_1, r_1), .., U_D (n_D, r_D)]`` with orthonormal ``U_k``."""
    tensor = np.asarray(tensor, dtype=np.float64)
    count = tensor.ndim
    caps = _caps(max_rank, count)
    norm = _norm(tensor)
    budget_sq = (rtol * norm) ** 2 / count if rtol is not None else 0.0
    core, frames, discarded = tensor, [], 0.0
    for k in range(count):
        unfolded = np.moveaxis(core, k, 0).reshape(core.shape[k], -1)
        u, s, _ = np.linalg.svd(unfolded, full_matrices=False)
        r = _truncation(s, caps[k], budget_sq)
        discarded += float((s[r:] ** 2).sum())
        frames.append(u[:, :r])
        core = _mode_product(core, u[:, :r], k)
    ranks = tuple(f.shape[1] for f in frames)
    return Decomposition([core] + frames, ranks, math.sqrt(discarded) / norm if norm else 0.0)


def tucker_to_dense(core, frames) -> np.ndarray:
    for k, frame in enumerate(frames):
        core = _mode_product(core, frame.T, k)
    return core


def block_term(tensor, ranks, blocks: int) -> Decomposition:
    """``blocks`` Tucker terms with the given ranks (one int or one per axis; each term's ranks are
    capped by the axis sizes and padded back with zeros so that every block has the same shape).
    Factors: ``[cores (blocks, r_1..r_D), U_1 (blocks, n_1, r_1), ..]``."""
    tensor = np.asarray(tensor, dtype=np.float64)
    caps = _caps(ranks, tensor.ndim)
    cores = np.zeros((blocks,) + tuple(caps))
    frames = [np.zeros((blocks, n, r)) for n, r in zip(tensor.shape, caps)]
    residual = tensor.copy()
    for b in range(blocks):
        term = st_hosvd(residual, caps)
        core, parts = term.factors[0], term.factors[1:]
        cores[(b,) + tuple(slice(0, r) for r in core.shape)] = core
        for frame, part in zip(frames, parts):
            frame[b, :, : part.shape[1]] = part
        residual = residual - tucker_to_dense(core, parts)
    norm = _norm(tensor)
    return Decomposition([cores] + frames, tuple(caps), _norm(residual) / norm if norm else 0.0)


def cp_to_dense(factors) -> np.ndarray:
    letters = string.ascii_letters[: len(factors)]
    return np.einsum(",".join(f"{c}z" for c in letters) + "->" + letters, *factors)


def cp_als(tensor, rank: int, iterations: int = 200, tol: float = 1e-10, seed: int = 0) -> Decomposition:
    """CP factors ``A_k (n_k, rank)`` by ALS; ``A_k`` is started from the leading left singular vectors of
    the mode-``k`` unfolding (random columns beyond its rank). Stops when the fit improves by < ``tol``."""
    tensor = np.asarray(tensor, dtype=np.float64)
    count = tensor.ndim
    rng = np.random.default_rng(seed)
    factors = []
    for k in range(count):
        u = np.linalg.svd(np.moveaxis(tensor, k, 0).reshape(tensor.shape[k], -1), full_matrices=False)[0]
        extra = rng.standard_normal((tensor.shape[k], max(0, rank - u.shape[1])))
        factors.append(np.concatenate([u, extra], axis=1)[:, :rank])
    letters = string.ascii_letters[:count]
    norm = _norm(tensor)
    previous = np.inf
    for _ in range(iterations):
        for k in range(count):
            others = [f for j, f in enumerate(factors) if j != k]
            gram = np.ones((rank, rank))
            for f in others:
                gram *= f.T @ f
            inputs = [f"{letters[j]}z" for j in range(count) if j != k]
            mttkrp = np.einsum(f"{letters}," + ",".join(inputs) + f"->{letters[k]}z", tensor, *others)
            factors[k] = np.linalg.lstsq(gram, mttkrp.T, rcond=None)[0].T
        error = _norm(tensor - cp_to_dense(factors)) / norm if norm else 0.0
        if previous - error < tol:
            break
        previous = error
    return Decomposition(factors, (rank,), error)
