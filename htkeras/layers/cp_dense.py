"""``CPDense``: a dense layer whose kernel is a CP (CANDECOMP/PARAFAC) tensor."""

from __future__ import annotations

import keras

from ..math import decompositions, networks
from ..math.tree import positive_int
from .factorized import MatrixFit
from .network_dense import NetworkDense


@keras.saving.register_keras_serializable(package="htkeras")
class CPDense(NetworkDense):
    """``y = activation(x @ W + b)`` with ``W[g_1, .., g_D] = sum_r prod_k A_k[g_k, r]`` (CP-GRU: Tjandra et
    al. 2018).

    Args:
        input_modes, output_modes: as in ``FactorizedDense``.
        ranks: the CP rank ``R`` (one int).
        layout: ``"paired"`` (one factor ``(m_k, n_k, R)`` per mode pair) or ``"separate"``.
        **kwargs: see ``FactorizedDense``.

    Weights ``factor_0 .. factor_{D-1}``. Parameters: ``R sum_k |g_k|``.
    """

    def __init__(self, input_modes=None, output_modes=None, ranks=4, layout="paired", **kwargs):
        self.layout = networks.check_layout(layout)
        positive_int(ranks, "ranks")
        super().__init__(input_modes, output_modes, ranks, **kwargs)

    def _build_network(self, input_modes, output_modes):
        return networks.cp_network(input_modes, output_modes, self.layout, int(self.ranks))

    def _factor_names(self):
        return [f"factor_{k}" for k in range(len(self.network.factor_labels))]

    def _num_terms(self):
        return int(self.ranks)

    def decompose(self, matrix, max_rank=None, rtol=None) -> MatrixFit:
        """Alternating least squares at rank ``max_rank`` (default the layer's)."""
        rank = int(self.ranks if max_rank is None else max_rank)
        result = decompositions.cp_als(self._group_tensor(matrix), rank)
        return MatrixFit(rank, result.factors, result.relative_error)
