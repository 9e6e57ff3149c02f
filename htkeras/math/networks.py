"""Tensor networks of the flat formats: Tensor-Train, Tensor Ring, Tucker, Block-Term and CP matrices.

A factorized matrix ``W[i_1..i_d, j_1..j_e]`` (rows: the input modes, row-major; columns: the output
modes) is a set of factors joined by labels. *Physical* labels are the modes ``("in", k)`` and
``("out", k)``; every other label (a TT/TR bond, a Tucker rank, the CP rank, the BT block) is summed.

Each factor owns a *group* of physical modes (``mode_groups``):

* ``"separate"``: one factor per input mode and one per output mode (``d + e`` groups);
* ``"paired"``: one factor per pair ``(i_k, j_k)`` (``d`` groups; needs ``d == e``), as in TT matrices.

The same ``Network`` gives the dense matrix, ``||W||_F^2`` (the network contracted with its copy, never
forming ``W``), the shapes the factors take in the network, and the operands of the contraction plan that
applies ``W`` to a batch (``htkeras.contraction``). The HT format, whose factors form a tree, has its own
module (``htkeras.ht``).
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .contraction import BATCH, MatrixNetwork, plan_contraction
from .tree import positive_int

LAYOUTS = ("separate", "paired")


def check_layout(layout: str) -> str:
    """``layout`` itself when it is one of ``LAYOUTS``; a ValueError otherwise."""
    if layout not in LAYOUTS:
        raise ValueError(f'`layout` must be "separate" or "paired", got {layout!r}.')
    return layout


def mode_groups(input_modes, output_modes, layout: str) -> list:
    """Physical labels owned by each factor, in factor order (see the module docstring)."""
    if check_layout(layout) == "paired" and len(input_modes) != len(output_modes):
        raise ValueError(
            f"The paired layout needs as many input as output modes, got input_modes={list(input_modes)} and "
            f'output_modes={list(output_modes)}. Give modes of equal length or use layout="separate".'
        )
    if layout == "paired":
        return [(("in", k), ("out", k)) for k in range(len(input_modes))]
    return [(("in", k),) for k in range(len(input_modes))] + [(("out", k),) for k in range(len(output_modes))]


def physical_sizes(input_modes, output_modes) -> dict:
    sizes = {("in", k): int(m) for k, m in enumerate(input_modes)}
    sizes.update({("out", k): int(m) for k, m in enumerate(output_modes)})
    return sizes


@dataclass(frozen=True)
class Network:
    """Factors of a matrix as labelled tensors.

    ``factor_labels[k]`` are the labels of factor ``k``'s axes in network order and ``sizes`` the size of
    every label. ``input_modes`` and ``output_modes`` give the physical labels' order in ``W``.
    """

    factor_labels: tuple
    sizes: dict
    input_modes: tuple
    output_modes: tuple

    @property
    def shapes(self) -> list:
        """Shape of each factor as it enters the network."""
        return [tuple(self.sizes[lab] for lab in labels) for labels in self.factor_labels]

    @property
    def row_labels(self) -> tuple:
        return tuple(("in", k) for k in range(len(self.input_modes)))

    @property
    def column_labels(self) -> tuple:
        return tuple(("out", k) for k in range(len(self.output_modes)))

    def matrix_network(self) -> MatrixNetwork:
        """The network of ``y = x @ W``: ``x`` first, labelled ``(batch, in_..)``, then the factors."""
        sizes = {BATCH: 1, **self.sizes}
        inputs = ((BATCH,) + self.row_labels, *self.factor_labels)
        return MatrixNetwork(inputs, (BATCH,) + self.column_labels, sizes, tuple(self.shapes))

    def dense(self, factors) -> np.ndarray:
        """The dense ``(prod(input_modes), prod(output_modes))`` matrix (factors in network shapes)."""
        out = self.row_labels + self.column_labels
        tensor = _einsum(list(self.factor_labels), factors, out, self.sizes)
        return tensor.reshape(math.prod(self.input_modes), math.prod(self.output_modes))

    def squared_norm(self, factors) -> float:
        """``||W||_F^2``: the network contracted with its copy over the physical labels only."""
        physical = set(self.row_labels + self.column_labels)
        primed = [tuple(lab if lab in physical else ("'", lab) for lab in labels) for labels in self.factor_labels]
        sizes = {**self.sizes, **{("'", lab): size for lab, size in self.sizes.items()}}
        factors = [np.asarray(f, dtype=np.float64) for f in factors]
        return float(_einsum(list(self.factor_labels) + primed, factors + factors, (), sizes))


def _einsum(labels, arrays, output, sizes) -> np.ndarray:
    """Contract labelled NumPy arrays pairwise in the cheapest order ``plan_contraction`` finds."""
    if len(arrays) == 1:
        (t,), (array,) = labels, arrays
        return np.einsum(array, list(range(len(t))), [t.index(lab) for lab in output])
    return plan_contraction(labels, output, sizes)(list(arrays), numpy=True)


# -- the formats ---------------------------------------------------------------------------------------
def ring_network(input_modes, output_modes, layout: str, ranks, closed: bool) -> Network:
    """Tensor-Train (``closed=False``) or Tensor Ring (``closed=True``) matrix.

    Factor ``k`` (group ``g_k``) is ``G_k[b_k, g_k, b_{k+1}]``. Bonds ``b_1 .. b_{D-1}`` have
    ``ranks[1..D-1]``. TT: ``b_0`` and ``b_D`` have size 1 (t3f's core shapes ``(r_{k-1}, m_k, n_k, r_k)``).
    TR: ``b_D`` is ``b_0`` (rank ``ranks[0]``), closing the ring: ``W = trace(G_1 .. G_D)``.
    """
    groups = mode_groups(input_modes, output_modes, layout)
    sizes = physical_sizes(input_modes, output_modes)
    count = len(groups)
    bonds = [("bond", k) for k in range(count)] + [("bond", 0) if closed else ("bond", count)]
    for k in range(count + 1):
        sizes[bonds[k]] = int(ranks[k % count] if closed else ranks[k])
    labels = tuple((bonds[k],) + groups[k] + (bonds[k + 1],) for k in range(count))
    return Network(labels, sizes, tuple(input_modes), tuple(output_modes))


def tucker_network(input_modes, output_modes, layout: str, ranks, blocks: int = 1) -> Network:
    """Tucker matrix, or a Block-Term matrix: the sum of ``blocks`` Tucker terms.

    Factors: the core ``C[(block,) r_1, .., r_D]``, then one factor matrix per group
    ``U_k[(block,) g_k, r_k]``. The block axis, present only for ``blocks > 1``, is shared by the core and
    all factor matrices and summed: ``W = sum_b C_b x_1 U_{b,1} .. x_D U_{b,D}``.
    """
    groups = mode_groups(input_modes, output_modes, layout)
    sizes = physical_sizes(input_modes, output_modes)
    block = (("block",),) if blocks > 1 else ()
    if blocks > 1:
        sizes[("block",)] = int(blocks)
    sizes.update({("rank", k): int(r) for k, r in enumerate(ranks)})
    core = block + tuple(("rank", k) for k in range(len(groups)))
    labels = (core,) + tuple(block + g + (("rank", k),) for k, g in enumerate(groups))
    return Network(labels, sizes, tuple(input_modes), tuple(output_modes))


def cp_network(input_modes, output_modes, layout: str, rank: int) -> Network:
    """CP matrix: ``W = sum_r prod_k A_k[g_k, r]``; the rank label is shared by every factor."""
    groups = mode_groups(input_modes, output_modes, layout)
    sizes = physical_sizes(input_modes, output_modes)
    sizes[("rank",)] = int(rank)
    labels = tuple(g + (("rank",),) for g in groups)
    return Network(labels, sizes, tuple(input_modes), tuple(output_modes))


# -- matrices as tensors over the groups -------------------------------------------------------------
def matrix_to_group_tensor(matrix, input_modes, output_modes, layout: str) -> np.ndarray:
    """Reshape ``W`` to the tensor with one axis per group (axis ``k`` of size ``prod(g_k)``)."""
    d = len(input_modes)
    tensor = np.asarray(matrix).reshape(tuple(input_modes) + tuple(output_modes))
    if layout == "separate":
        return tensor
    order = [a for k in range(d) for a in (k, d + k)]
    return tensor.transpose(order).reshape([m * n for m, n in zip(input_modes, output_modes)])


# -- rank specifications ---------------------------------------------------------------------------------
def _rank_list(ranks, name: str) -> list | None:
    if isinstance(ranks, (list, tuple)):
        return [positive_int(r, name, ranks) for r in ranks]
    return None


def tt_ranks(ranks, count: int, name: str = "ranks") -> tuple:
    """TT ranks ``(1, r_1, .., r_{D-1}, 1)`` from one int, the ``D - 1`` inner ranks, or all ``D + 1``."""
    values = _rank_list(ranks, name)
    if values is None:
        return (1,) + (positive_int(ranks, name),) * (count - 1) + (1,)
    if len(values) == count - 1:
        return (1, *values, 1)
    if len(values) == count + 1 and values[0] == values[-1] == 1:
        return tuple(values)
    raise ValueError(
        f"`{name}` for {count} TT cores is one int, {count - 1} inner ranks, or {count + 1} ranks starting and "
        f"ending with 1; got {list(ranks)}."
    )


def per_factor_ranks(ranks, count: int, what: str, name: str = "ranks") -> tuple:
    """``count`` ranks from one int or a list of ``count`` (``what`` names them in the error)."""
    values = _rank_list(ranks, name)
    if values is None:
        return (positive_int(ranks, name),) * count
    if len(values) != count:
        raise ValueError(f"`{name}` needs one int or {count} values ({what}), got {list(ranks)}.")
    return tuple(values)
