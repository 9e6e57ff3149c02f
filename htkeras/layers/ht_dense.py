"""``HTDense``: a dense layer whose kernel is a Hierarchical Tucker matrix."""

from __future__ import annotations

import keras

from ..math import ht, networks
from ..math.tree import DimensionTree, parse_structure, ranks_to_config, structure_to_config
from .factorized import FactorizedDense, MatrixFit


@keras.saving.register_keras_serializable(package="htkeras")
class HTDense(FactorizedDense):
    """``y = activation(x @ W + b)`` with ``W`` in the Hierarchical Tucker format.

    The kernel ``W`` of shape ``(prod(input_modes), prod(output_modes))`` is stored as one leaf frame per
    leaf and one transfer tensor per inner node of a binary dimension tree (``htkeras.tree``,
    ``htkeras.ht``), and is never formed: ``x`` is contracted with the factors in the order the cost model
    of ``htkeras.contraction`` picks.

    Args:
        input_modes: factors of the input size, e.g. ``[8, 20, 20, 18]`` for 57,600; ``None``: automatic.
        output_modes: factors of the output size, e.g. ``[16, 4, 4, 4]``; ``None``: tensorize ``units``.
        ranks: one int for every non-root node, a list in post-order, or a mapping
            ``{leaf or tuple of leaves: rank}`` (``DimensionTree.resolve_ranks``). Root rank is 1.
        layout: ``"separate"`` (one leaf per input mode and per output mode, interleaved so that the tree
            first pairs ``i_k`` with ``j_k``) or ``"paired"`` (one leaf ``(i_k, j_k)`` per mode pair); the same
            choice as the other layers' ``layout``. ``leaves=`` (its name before 0.2) is accepted too.
        tree: nested pairs of leaf numbers, e.g. ``[[0, 4], [[1, 5], [2, 6]]]``; ``None``: balanced.
            Separate leaves are numbered inputs first (``0..d_in-1``), then outputs.
        **kwargs: see ``FactorizedDense`` (units, num_modes, pad_inputs, use_bias, activation,
            initializers, regularizers, constraints).

    Shapes: input ``(..., input_dim)``, output ``(..., units)``.

    Parameters: ``sum_leaves n_k r_k + sum_inner r_l r_r r_t`` (+ ``units`` for the bias). Example: the
    UCF11 HT-LSTM input map ``HTDense([8, 20, 20, 18], [16, 4, 4, 4], ranks=5, use_bias=False)`` has
    ``94 * 5 + 6 * 125 + 25 = 1,245`` weights instead of ``57,600 * 1,024``.

    FLOPs: those of the chosen contraction order, ``compression_stats().flops`` (per example).
    """

    def __init__(self, input_modes=None, output_modes=None, ranks=4, layout="separate", tree=None, *, leaves=None,
                 **kwargs):
        if leaves is not None and layout not in ("separate", leaves):
            raise ValueError(f"`leaves` is the former name of `layout`; give one, got layout={layout!r}, leaves={leaves!r}.")
        self.layout = networks.check_layout(leaves or layout)
        self.tree_structure = tree
        super().__init__(input_modes, output_modes, ranks, **kwargs)

    def _same_num_modes(self) -> bool:
        return self.layout == "paired"

    def _setup(self, input_modes, output_modes):
        self.tree = DimensionTree(input_modes, output_modes, self.layout, self.tree_structure)
        self.node_ranks = self.tree.resolve_ranks(self.ranks)

    def _factor_shapes(self):
        names = [f"leaf_{n.leaves[0]}" if n.is_leaf else f"transfer_{n.id}" for n in self.tree.nodes]
        return list(zip(names, ht.factor_shapes(self.tree, self.node_ranks)))

    def _num_terms(self):
        return ht.num_terms(self.tree, self.node_ranks)

    def _matrix_network(self):
        return ht.network(self.tree, self.node_ranks)

    adaptive_ranks = True

    def decompose(self, matrix, max_rank=None, rtol=None) -> MatrixFit:
        """HT-SVD (``htkeras.math.ht.ht_svd``)."""
        result = ht.ht_svd(matrix, self.tree, max_rank, rtol)
        return MatrixFit(list(result.ranks[:-1]), result.factors, result.relative_error)

    def _dense_from_factors(self, factors):
        return ht.to_dense(self.tree, factors)

    def _squared_norm(self, factors):
        return ht.squared_norm(self.tree, factors)

    def get_config(self):
        config = super().get_config()
        structure = self.tree_structure
        config.update(
            {
                "ranks": ranks_to_config(self.ranks),
                "layout": self.layout,
                "tree": None if structure is None else structure_to_config(parse_structure(structure)),
            }
        )
        return config
