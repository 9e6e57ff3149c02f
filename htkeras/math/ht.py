"""Hierarchical Tucker (HT) matrices: factor shapes, parameter count, dense reconstruction, HT-SVD, and
the tensor network that applies an HT matrix to a batch without forming it.

Notation (see ``htkeras.tree``): ``L`` leaves, leaf ``k`` of size ``n_k = a_k * b_k`` (input part ``a_k``,
output part ``b_k``); nodes ``t`` in post-order with ranks ``r_t`` (root rank 1).

Factors, one per node, in node order:

* leaf ``t`` (leaf number ``k``): the *leaf frame* ``U_t`` of shape ``(n_k, r_t)``; its rows are ordered
  ``(a_k, b_k)`` row-major, so ``U_t.reshape(a_k, b_k, r_t)`` separates input and output parts;
* inner node ``t`` with children ``l, r``: the *transfer tensor* ``B_t`` of shape ``(r_l, r_r, r_t)``
  (``r_t = 1`` at the root).

The HT tensor is ``U_t = (U_l kron U_r) B_t`` applied recursively up to the root; as a matrix its rows are
the input modes in order and its columns the output modes in order (``W[i_1..i_d, j_1..j_d]``), matching a
row-major flattening of ``x`` and ``y`` in ``y = x @ W``.

Parameters: ``sum_leaves n_k r_t + sum_inner r_l r_r r_t``.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from .contraction import BATCH, MatrixNetwork
from .tree import DimensionTree


def factor_shapes(tree: DimensionTree, ranks) -> list:
    """Shape of each factor, in node order: ``(n_k, r_t)`` for leaves, ``(r_l, r_r, r_t)`` otherwise."""
    shapes = []
    for node in tree.nodes:
        if node.is_leaf:
            shapes.append((tree.leaf_size(node.leaves[0]), ranks[node.id]))
        else:
            left, right = node.children
            shapes.append((ranks[left], ranks[right], ranks[node.id]))
    return shapes


def parameter_count(tree: DimensionTree, ranks) -> int:
    """Exact number of HT parameters: ``sum_leaves n_k r_t + sum_inner r_l r_r r_t``."""
    return sum(math.prod(s) for s in factor_shapes(tree, ranks))


def num_terms(tree: DimensionTree, ranks) -> int:
    """Number of rank-index combinations summed in each entry of the HT matrix: ``prod_{t != root} r_t``.

    Each entry is a sum of this many products, each product taking one entry of every factor; this sets the
    variance of the product of independent random factors (see ``htkeras.initializers``).
    """
    return math.prod(ranks[n.id] for n in tree.non_root_nodes)


def leaf_tensor_to_matrix(tensor: np.ndarray, tree: DimensionTree) -> np.ndarray:
    """Tensor with axes ``(n_0, .., n_{L-1})`` (leaf order) -> matrix ``(prod a, prod b)``."""
    a, b = zip(*tree.leaf_shapes)
    t = tensor.reshape([x for pair in tree.leaf_shapes for x in pair])
    num = tree.num_leaves
    t = t.transpose([2 * k for k in range(num)] + [2 * k + 1 for k in range(num)])
    return t.reshape(math.prod(a), math.prod(b))


def matrix_to_leaf_tensor(matrix: np.ndarray, tree: DimensionTree) -> np.ndarray:
    """Inverse of ``leaf_tensor_to_matrix``."""
    a, b = zip(*tree.leaf_shapes)
    expected = (math.prod(a), math.prod(b))
    if tuple(matrix.shape) != expected:
        raise ValueError(
            f"matrix of shape {tuple(matrix.shape)} does not match the tree: expected "
            f"(prod(input_modes), prod(output_modes)) = {expected}."
        )
    num = tree.num_leaves
    t = matrix.reshape(list(a) + list(b))
    t = t.transpose([p for k in range(num) for p in (k, num + k)])
    return t.reshape([a_k * b_k for a_k, b_k in tree.leaf_shapes])


def to_dense(tree: DimensionTree, factors) -> np.ndarray:
    """Full matrix ``(prod(input_modes), prod(output_modes))`` of an HT matrix (NumPy, any float dtype).

    Cost: ``O(prod(n) * r_max)`` time and memory for the last node; use for checks and conversions.
    """
    factors = [np.asarray(f) for f in factors]

    def node_tensor(node):  # axes: leaves below `node` in tree order, then r_t
        if node.is_leaf:
            return factors[node.id]
        left, right = (tree.nodes[c] for c in node.children)
        tl, tr = node_tensor(left), node_tensor(right)
        out = np.tensordot(tl, factors[node.id], axes=([tl.ndim - 1], [0]))  # (..l, r_r, r_t)
        out = np.tensordot(out, tr, axes=([tl.ndim - 1], [tr.ndim - 1]))  # (..l, r_t, ..r)
        return np.moveaxis(out, tl.ndim - 1, -1)

    root = node_tensor(tree.root)[..., 0]
    order = np.argsort(tree.root.leaves)  # tree order -> leaf-number order
    return leaf_tensor_to_matrix(root.transpose(order), tree)


def squared_norm(tree: DimensionTree, factors) -> float:
    """``||W||_F^2`` without forming ``W``: Gram matrices ``G_t = U_t^T U_t`` from the leaves up,
    ``G_t = B_t^T (G_l kron G_r) B_t``. Cost ``O(sum_t r^4)``."""
    grams = [None] * len(tree.nodes)
    for node in tree.nodes:
        f = np.asarray(factors[node.id], dtype=np.float64)
        if node.is_leaf:
            grams[node.id] = f.T @ f
        else:
            left, right = node.children
            grams[node.id] = np.einsum("abx,ac,bd,cdy->xy", f, grams[left], grams[right], f, optimize=True)
    return float(grams[tree.root.id][0, 0])


@dataclass
class HTDecomposition:
    """Result of ``ht_svd``: factors in node order, the ranks used, and the relative Frobenius error."""

    tree: DimensionTree
    factors: list
    ranks: tuple
    relative_error: float

    def to_dense(self) -> np.ndarray:
        return to_dense(self.tree, self.factors)

    @property
    def num_parameters(self) -> int:
        return parameter_count(self.tree, self.ranks)


def ht_svd(matrix, tree: DimensionTree, max_rank=None, rtol: float | None = None) -> HTDecomposition:
    """Leaves-to-root truncated HT-SVD (Grasedyck, SIAM J. Matrix Anal. Appl. 31(4), 2010, Alg. 2).

    Nodes are processed from the deepest level up; at each node the current core tensor is matricized on
    the node's axis (leaf) or on its two children's axes (inner node), its leading left singular vectors
    become the node's orthonormal frame / transfer tensor, and the core is projected onto them.

    Args:
        matrix: dense ``(prod(input_modes), prod(output_modes))`` array.
        tree: the dimension tree.
        max_rank: cap on every rank: one int, or anything ``tree.resolve_ranks`` accepts.
        rtol: relative Frobenius error allowed in total; each of the ``2L - 2`` truncations may discard
            ``rtol * ||A|| / sqrt(2L - 2)``, so the result's error is at most ``rtol``.

    Returns:
        ``HTDecomposition``; its ``relative_error`` is exact (the projections are orthogonal, so the
        squared errors of the truncations add up).

    Cost: one SVD per node of the current core; the leaf SVDs dominate at ``O(n_k * prod(n))`` each.
    """
    matrix = np.asarray(matrix)
    dtype = np.result_type(matrix.dtype, np.float32)
    core = matrix_to_leaf_tensor(matrix.astype(np.float64), tree)
    caps = tree.resolve_ranks(max_rank, "max_rank") if max_rank is not None else None
    norm = float(np.linalg.norm(core))
    budget = (rtol * norm / math.sqrt(2 * tree.num_leaves - 2)) if rtol is not None else 0.0
    axes = [tree.leaf_nodes[k].id for k in range(tree.num_leaves)]  # node id of each core axis
    factors: list = [None] * len(tree.nodes)
    ranks = [1] * len(tree.nodes)
    discarded = 0.0

    for node in sorted(tree.non_root_nodes, key=tree.depth, reverse=True):
        own = [axes.index(node.id)] if node.is_leaf else [axes.index(c) for c in node.children]
        rest = [k for k in range(core.ndim) if k not in own]
        moved = core.transpose(own + rest)
        rows = math.prod(moved.shape[: len(own)])
        u, s, _ = np.linalg.svd(moved.reshape(rows, -1), full_matrices=False)
        tail = np.sqrt(np.cumsum((s**2)[::-1]))[::-1]  # tail[k] = error when keeping k values
        keep = next((k for k in range(1, len(s) + 1) if k == len(s) or tail[k] <= budget), len(s))
        if caps is not None:
            keep = min(keep, caps[node.id])
        discarded += float(np.sum(s[keep:] ** 2))
        u = u[:, :keep]
        factors[node.id] = u.reshape(*moved.shape[: len(own)], keep).astype(dtype)
        ranks[node.id] = keep
        core = np.tensordot(u.T, moved.reshape(rows, *moved.shape[len(own):]), axes=([1], [0]))
        axes = [node.id] + [axes[k] for k in rest]

    left, right = tree.root.children
    core = core.transpose([axes.index(left), axes.index(right)])
    factors[tree.root.id] = core[..., None].astype(dtype)
    error = math.sqrt(discarded) / norm if norm > 0 else 0.0
    return HTDecomposition(tree, factors, tuple(ranks), error)


def network(tree: DimensionTree, ranks) -> MatrixNetwork:
    """The tensor network of ``y = x @ W`` for a batch ``x`` (a ``MatrixNetwork``): labels of ``x`` then of
    each factor in node order, the output labels, every label's size, the shape each factor takes in the
    network (leaf frames reshaped to ``(a_k, r)``, ``(b_k, r)`` or ``(a_k, b_k, r)``; the root transfer tensor
    to ``(r_l, r_r)``), and the bottom-up path (``bottom_up_path``) as a candidate. ``x`` has labels
    ``(batch, in_0, .., in_{d-1})`` and ``y`` ``(batch, out_0, ..)``.
    """
    d_in = len(tree.input_modes)
    sizes = {BATCH: 1}
    sizes.update({("in", k): m for k, m in enumerate(tree.input_modes)})
    sizes.update({("out", k): m for k, m in enumerate(tree.output_modes)})
    sizes.update({("rank", n.id): ranks[n.id] for n in tree.non_root_nodes})
    inputs = [(BATCH,) + tuple(("in", k) for k in range(d_in))]
    for node in tree.nodes:
        if node.is_leaf:
            k = node.leaves[0]
            if tree.layout == "paired":
                mode_labels = (("in", k), ("out", k)) if tree.output_modes else (("in", k),)
            else:
                mode_labels = (("in", k),) if k < d_in else (("out", k - d_in),)
            inputs.append(mode_labels + (("rank", node.id),))
        else:
            labels = tuple(("rank", c) for c in node.children)
            inputs.append(labels if node.parent is None else labels + (("rank", node.id),))
    output = (BATCH,) + tuple(("out", k) for k in range(len(tree.output_modes)))
    shapes = tuple(tuple(sizes[lab] for lab in labels) for labels in inputs[1:])
    return MatrixNetwork(tuple(inputs), output, sizes, shapes, BATCH, (bottom_up_path(tree),))


def bottom_up_path(tree: DimensionTree) -> list:
    """Contraction path that forms the dense matrix bottom-up, then multiplies ``x`` by it."""
    path = []
    work = ["x"] + [n.id for n in tree.nodes]  # x is operand 0
    for node in tree.nodes:
        if node.is_leaf:
            continue
        for child in node.children:  # merge each child into its parent's tensor
            i, j = sorted((work.index(child), work.index(node.id)))
            path.append((i, j))
            del work[j], work[i]
            work.append(node.id)
    path.append((0, 1))
    return path
