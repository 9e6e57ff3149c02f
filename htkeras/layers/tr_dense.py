"""``TRDense``: a dense layer whose kernel is a Tensor Ring."""

from __future__ import annotations

import math

import keras
import numpy as np

from ..math import decompositions, networks
from .factorized import MatrixFit
from .network_dense import NetworkDense


@keras.saving.register_keras_serializable(package="htkeras")
class TRDense(NetworkDense):
    """``y = activation(x @ W + b)`` with ``W = trace(G_1 G_2 .. G_D)`` a Tensor Ring (Zhao et al. 2016;
    TR-LSTM: Pan et al., AAAI 2019).

    Args:
        input_modes, output_modes: as in ``FactorizedDense``.
        ranks: one int, or ``D`` ring ranks ``[r_0, .., r_{D-1}]``: core ``k`` is ``(r_k, g_k, r_{k+1})``
            and ``r_D = r_0`` closes the ring.
        layout: ``"separate"`` (Pan et al.: one core per input mode, then one per output mode) or
            ``"paired"`` (one core per ``(m_k, n_k)``, a TT matrix with a closed ring).
        **kwargs: see ``FactorizedDense``.

    Parameters: ``sum_k r_k |g_k| r_{k+1}``. Weights ``core_0 .. core_{D-1}``.
    """

    adaptive_ranks = True

    def __init__(self, input_modes=None, output_modes=None, ranks=4, layout="separate", **kwargs):
        self.layout = networks.check_layout(layout)
        super().__init__(input_modes, output_modes, ranks, **kwargs)

    def _build_network(self, input_modes, output_modes):
        count = len(networks.mode_groups(input_modes, output_modes, self.layout))
        self.ring_ranks = networks.per_factor_ranks(self.ranks, count, "one ring rank per core")
        return networks.ring_network(input_modes, output_modes, self.layout, self.ring_ranks, closed=True)

    def _factor_names(self):
        return [f"core_{k}" for k in range(len(self.ring_ranks))]

    def _num_terms(self):
        return math.prod(self.ring_ranks)

    def decompose(self, matrix, max_rank=None, rtol=None) -> MatrixFit:
        """TT-SVD, closed into a ring of rank ``max_rank`` (1 when None): the TT cores sit in the ``[0, 0]``
        corner of the first and last ring cores, the rest zero, so the trace equals the TT (exact)."""
        tt = decompositions.tt_svd(self._group_tensor(matrix), max_rank, rtol)
        ring = int(max_rank or 1)
        cores = list(tt.factors)  # zero-pad the first core's left and the last core's right rank to `ring`
        cores[0] = np.pad(cores[0], [(0, ring - 1)] + [(0, 0)] * (cores[0].ndim - 1))
        cores[-1] = np.pad(cores[-1], [(0, 0)] * (cores[-1].ndim - 1) + [(0, ring - 1)])
        return MatrixFit([ring] + list(tt.ranks[1:-1]), cores, tt.relative_error)
