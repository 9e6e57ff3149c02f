"""``TTDense``: a dense layer whose kernel is a Tensor-Train matrix, computed with t3f."""

from __future__ import annotations

import math

import keras
import numpy as np
from keras import ops

from ..math import decompositions, networks
from .factorized import MatrixFit, PreparedMap
from .network_dense import NetworkDense


def _t3f():
    if keras.backend.backend() != "tensorflow":
        raise RuntimeError(
            f"TTDense computes with t3f, which runs on TensorFlow only; the Keras backend is "
            f"{keras.backend.backend()!r}. Set KERAS_BACKEND=tensorflow, or use TRDense (a tensor ring, which "
            "runs on every backend)."
        )
    try:
        import t3f
    except ImportError as error:  # pragma: no cover - t3f is a dependency
        raise ImportError("TTDense needs the t3f package: pip install t3f") from error
    return t3f


@keras.saving.register_keras_serializable(package="htkeras")
class TTDense(NetworkDense):
    """``y = activation(x @ W + b)`` with ``W`` a Tensor-Train matrix (Oseledets 2011; TT-LSTM/GRU: Yang et
    al., ICML 2017; TT-GRU: Tjandra et al. 2017/2018), applied with ``t3f.matmul``.

    The layer owns the TT cores ``G_k`` of shape ``(r_{k-1}, m_k, n_k, r_k)`` (``r_0 = r_d = 1``) as
    Keras weights ``core_0 .. core_{d-1}``; each call wraps them in a ``t3f.TensorTrain``. TensorFlow
    backend only (t3f is TensorFlow code); the error says so on other backends.

    Args:
        input_modes: ``m_1..m_d``, e.g. ``[8, 20, 20, 18]``; ``None``: automatic (as many as output modes).
        output_modes: ``n_1..n_d``, e.g. ``[16, 4, 4, 4]``; ``None``: tensorize ``units``.
        ranks: one int (all inner ranks), the ``d - 1`` inner ranks, or all ``d + 1`` (``[1, .., 1]``).
        **kwargs: see ``FactorizedDense``.

    Parameters: ``sum_k r_{k-1} m_k n_k r_k``. UCF11 TT-LSTM input map (Yang et al.):
    ``TTDense([8, 20, 20, 18], [16, 4, 4, 4], ranks=4, use_bias=False)`` has
    ``512 + 1,280 + 1,280 + 288 = 3,360`` weights.

    FLOPs per example: ``2 sum_k r_{k-1} r_k prod(m_1..m_k) prod(n_k..n_d)`` (t3f's order: cores from last
    to first).
    """

    layout = "paired"
    _layout_argument = False
    adaptive_ranks = True

    def __init__(self, input_modes=None, output_modes=None, ranks=4, **kwargs):
        _t3f()
        super().__init__(input_modes, output_modes, ranks, **kwargs)

    def _build_network(self, input_modes, output_modes):
        if len(input_modes) < 2:
            raise ValueError(
                f"TTDense needs at least 2 modes (t3f has no one-core TT matrices), got input_modes="
                f"{list(input_modes)}; a one-core TT matrix is a dense matrix: use keras.layers.Dense."
            )
        self.tt_ranks = networks.tt_ranks(self.ranks, len(input_modes))
        return networks.ring_network(input_modes, output_modes, "paired", self.tt_ranks, closed=False)

    def _factor_names(self):
        return [f"core_{k}" for k in range(len(self.resolved_input_modes))]

    def _num_terms(self):
        return math.prod(self.tt_ranks)

    def _flops_per_example(self):
        m, n, r = self.resolved_input_modes, self.resolved_output_modes, self.tt_ranks
        return sum(
            2 * r[k] * r[k + 1] * math.prod(m[: k + 1]) * math.prod(n[k:]) for k in range(len(m))
        )

    def tensor_train(self, cores=None):
        """The kernel as a ``t3f.TensorTrain`` (of ``cores``, default the layer's weights)."""
        t3f = _t3f()
        cores = [ops.convert_to_tensor(c) for c in (self._factor_values() if cores is None else cores)]
        return t3f.TensorTrain(cores, (self.resolved_input_modes, self.resolved_output_modes), self.tt_ranks)

    def _prepare_factors(self, factors, steps, batch_size=None):
        return PreparedMap(factors)  # t3f contracts the cores itself

    def _contract(self, x, prepared):
        t3f = _t3f()
        return t3f.matmul(ops.reshape(x, (-1, self.padded_input_dim)), self.tensor_train(prepared.tensors))

    def decompose(self, matrix, max_rank=None, rtol=None) -> MatrixFit:
        """TT-SVD by t3f (``to_tt_matrix``). t3f ignores its ``epsilon``, so the ranks that meet ``rtol`` are
        chosen here (``decompositions.tt_svd``) and passed to t3f as ``max_tt_rank``."""
        t3f = _t3f()
        chosen = decompositions.tt_svd(self._group_tensor(matrix), max_rank, rtol)
        shape = (self.resolved_input_modes, self.resolved_output_modes)
        tt = t3f.to_tt_matrix(np.asarray(matrix, np.float64), shape=shape, max_tt_rank=list(chosen.ranks))
        return MatrixFit(list(chosen.ranks), [ops.convert_to_numpy(core) for core in tt.tt_cores],
                         chosen.relative_error)
