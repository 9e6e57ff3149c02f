"""``TuckerDense`` and ``BTDense``: kernels in the Tucker and Block-Term formats."""

from __future__ import annotations

import math

import keras

from ..math import decompositions, networks
from ..math.tree import positive_int
from .factorized import MatrixFit
from .network_dense import NetworkDense


@keras.saving.register_keras_serializable(package="htkeras")
class TuckerDense(NetworkDense):
    """``y = activation(x @ W + b)`` with ``W = C x_1 U_1 .. x_D U_D`` in the Tucker format (Tucker-GRU:
    Tjandra et al. 2018).

    Args:
        input_modes, output_modes: as in ``FactorizedDense``.
        ranks: one int or one rank per factor matrix (``D`` values).
        layout: ``"paired"`` (one factor matrix ``U_k`` of shape ``(m_k n_k, r_k)`` per mode pair) or
            ``"separate"`` (one per input mode and one per output mode).
        **kwargs: see ``FactorizedDense``.

    Weights: ``core`` ``(r_1, .., r_D)`` and ``factor_k`` (in network shape ``(m_k, n_k, r_k)`` or
    ``(n_k, r_k)``). Parameters: ``prod(r) + sum_k |g_k| r_k``.
    """

    adaptive_ranks = True
    blocks = 1

    def __init__(self, input_modes=None, output_modes=None, ranks=4, layout="paired", **kwargs):
        self.layout = networks.check_layout(layout)
        super().__init__(input_modes, output_modes, ranks, **kwargs)

    def _build_network(self, input_modes, output_modes):
        count = len(networks.mode_groups(input_modes, output_modes, self.layout))
        self.factor_ranks = networks.per_factor_ranks(self.ranks, count, "one rank per factor matrix")
        return networks.tucker_network(input_modes, output_modes, self.layout, self.factor_ranks, self.blocks)

    def _factor_names(self):
        return ["core"] + [f"factor_{k}" for k in range(len(self.factor_ranks))]

    def _num_terms(self):
        return self.blocks * math.prod(self.factor_ranks)

    def decompose(self, matrix, max_rank=None, rtol=None) -> MatrixFit:
        """Sequentially truncated HOSVD."""
        result = decompositions.st_hosvd(self._group_tensor(matrix), max_rank, rtol)
        return MatrixFit(list(result.ranks), result.factors, result.relative_error)


@keras.saving.register_keras_serializable(package="htkeras")
class BTDense(TuckerDense):
    """``y = activation(x @ W + b)`` with ``W`` in the Block-Term format: the sum of ``blocks`` Tucker
    terms (Ye et al., "Learning Compact Recurrent Neural Networks with Block-Term Tensor Decomposition",
    CVPR 2018).

    Args:
        input_modes, output_modes, ranks, layout: as in ``TuckerDense`` (the ranks of every block).
        blocks: number of Tucker terms ``N``.

    Weights: ``core`` ``(N, r_1, .., r_D)`` and ``factor_k`` ``(N, m_k, n_k, r_k)``. Parameters:
    ``N (prod(r) + sum_k |g_k| r_k)``. UCF11 BT-LSTM input map (Ye et al.):
    ``BTDense([8, 20, 20, 18], [16, 4, 4, 4], ranks=4, blocks=2, use_bias=False)`` has
    ``2 * (4^4 + (128 + 80 + 80 + 72) * 4) = 3,392`` weights.
    """

    adaptive_ranks = False

    def __init__(self, input_modes=None, output_modes=None, ranks=4, blocks=2, layout="paired", **kwargs):
        self.blocks = positive_int(blocks, "blocks")
        super().__init__(input_modes, output_modes, ranks, layout, **kwargs)

    def decompose(self, matrix, max_rank=None, rtol=None) -> MatrixFit:
        """Greedy block terms, each an ST-HOSVD of the residual (ranks ``max_rank``, default the layer's)."""
        ranks = self.factor_ranks if max_rank is None else max_rank
        result = decompositions.block_term(self._group_tensor(matrix), ranks, self.blocks)
        return MatrixFit(list(result.ranks), result.factors, result.relative_error)

    def get_config(self):
        return {**super().get_config(), "blocks": self.blocks}
