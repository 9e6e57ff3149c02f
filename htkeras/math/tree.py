"""Dimension trees for the Hierarchical Tucker (HT) format.

A weight matrix ``W`` of shape ``(prod(input_modes), prod(output_modes))`` is viewed as a tensor whose modes
are grouped into *leaves*. Each leaf carries an input part ``a`` and an output part ``b`` (either may be 1):

* ``leaves="separate"``: one leaf per input mode ``(i_k, 1)`` and one per output mode ``(1, j_k)``; leaf numbers
  ``0 .. d_in-1`` are the input modes and ``d_in .. d_in+d_out-1`` the output modes. The default tree joins
  the leaves in the interleaved order ``i_1, j_1, i_2, j_2, ...`` so that the first level of the tree pairs
  each input mode with its output mode (the root never separates all inputs from all outputs, which would
  cap the matrix rank at the root's children's rank).
* ``leaves="paired"``: leaf ``k`` is the merged pair ``(i_k, j_k)``; needs ``d_in == d_out``.

The tree is binary. Nodes are numbered in post-order (children before parents, the root last); every
non-root node ``t`` carries a rank ``r_t``; the root has rank 1.
"""

from __future__ import annotations

import math
import operator
import warnings
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cached_property

LEAF_LAYOUTS = ("separate", "paired")

Structure = int | tuple  # a leaf index or a pair of sub-structures
RankSpec = int | Sequence[int] | Mapping


@dataclass(frozen=True)
class Node:
    """One node of a dimension tree.

    Attributes:
        id: post-order number (root = ``num_nodes - 1``).
        leaves: leaf numbers below this node, in tree (left-to-right) order.
        children: ids of the two children; ``()`` for a leaf.
        parent: id of the parent; ``None`` for the root.
    """

    id: int
    leaves: tuple
    children: tuple
    parent: int | None

    @property
    def is_leaf(self) -> bool:
        return not self.children


def parse_structure(value, name="tree") -> Structure:
    """Nested lists/tuples of ints -> nested 2-tuples of ints (validated for binarity)."""
    if isinstance(value, bool):
        raise ValueError(f"`{name}` must contain leaf numbers (ints), got {value!r}.")
    if isinstance(value, int):
        return value
    if isinstance(value, (list, tuple)):
        if len(value) == 1:
            return parse_structure(value[0], name)
        if len(value) != 2:
            raise ValueError(
                f"`{name}` must be binary: every inner node has exactly two children, got a node with "
                f"{len(value)}: {value!r}. Nest them, e.g. [[0, 1], [2, 3]] instead of [0, 1, 2, 3]."
            )
        return (parse_structure(value[0], name), parse_structure(value[1], name))
    raise ValueError(f"`{name}` must be nested lists of leaf numbers, got {value!r}.")


def _structure_leaves(structure: Structure) -> list:
    if isinstance(structure, int):
        return [structure]
    return _structure_leaves(structure[0]) + _structure_leaves(structure[1])


def balanced_structure(order: Sequence[int]) -> Structure:
    """Balanced binary tree over ``order`` (left half gets the extra leaf when odd)."""
    order = list(order)
    if len(order) == 1:
        return order[0]
    half = (len(order) + 1) // 2
    return (balanced_structure(order[:half]), balanced_structure(order[half:]))


def structure_to_config(structure: Structure):
    """JSON-friendly nested lists."""
    if isinstance(structure, int):
        return structure
    return [structure_to_config(structure[0]), structure_to_config(structure[1])]


def modes_or_none(modes, name) -> tuple | None:
    """``modes`` as a tuple of positive ints (a non-empty list of them), or None (automatic); a ValueError
    naming ``name`` otherwise."""
    if modes is None:
        return None
    if isinstance(modes, (str, bytes)) or not hasattr(modes, "__iter__"):
        raise ValueError(f"`{name}` must be a list of positive ints or None (automatic), got {modes!r}.")
    modes = tuple(positive_int(m, name, modes) for m in modes)
    if not modes:
        raise ValueError(f"`{name}` must hold at least one mode, or be None (automatic).")
    return modes


def positive_int(value, name, context=None):
    """``operator.index(value)`` when it is an int >= 1, else a ValueError naming ``name`` (and showing
    ``context``, the whole argument, when ``value`` is one entry of it)."""
    context = value if context is None else context
    try:
        if isinstance(value, bool):
            raise TypeError
        value = operator.index(value)
    except TypeError:
        raise ValueError(f"`{name}` takes positive ints, got {context!r}.") from None
    if value < 1:
        raise ValueError(f"`{name}` takes positive ints (>= 1), got {context!r}.")
    return value


def _check_modes(modes, name) -> tuple:
    if isinstance(modes, (str, bytes)) or not isinstance(modes, Sequence) or len(modes) == 0:
        raise ValueError(f"`{name}` must be a non-empty list of positive ints, got {modes!r}.")
    return tuple(positive_int(m, name, list(modes)) for m in modes)


def rank_key_leaves(key) -> tuple:
    """Leaf numbers named by a rank-mapping key: ``3``, ``(0, 4)`` or ``"0,4"``."""
    if isinstance(key, str):
        try:
            return tuple(int(part) for part in key.split(","))
        except ValueError:
            raise ValueError(f"rank key {key!r} must be leaf numbers separated by commas, e.g. \"0,4\".") from None
    return (key,) if isinstance(key, int) else tuple(key)


def ranks_to_config(ranks):
    """JSON-friendly ranks: mappings get string keys ``"0,4"``."""
    if isinstance(ranks, Mapping):
        return {",".join(str(k) for k in rank_key_leaves(key)): int(v) for key, v in ranks.items()}
    if isinstance(ranks, Sequence) and not isinstance(ranks, str):
        return [int(v) for v in ranks]
    return int(ranks)


class DimensionTree:
    """A binary dimension tree over the leaves of an ``input_modes x output_modes`` matrix.

    Args:
        input_modes: factors of the input size, e.g. ``[8, 20, 20, 18]`` for 57,600.
        output_modes: factors of the output size; ``()`` describes a plain tensor (HT-SVD of a tensor).
        leaves: ``"separate"`` or ``"paired"`` (see the module docstring).
        structure: nested pairs of leaf numbers; ``None`` for the balanced default.
    """

    def __init__(self, input_modes, output_modes=(), leaves="separate", structure=None):
        if leaves not in LEAF_LAYOUTS:
            raise ValueError(f"`leaves` must be one of {LEAF_LAYOUTS}, got {leaves!r}.")
        self.input_modes = _check_modes(input_modes, "input_modes")
        self.output_modes = _check_modes(output_modes, "output_modes") if len(output_modes) else ()
        self.layout = leaves
        if leaves == "paired":
            if self.output_modes and len(self.output_modes) != len(self.input_modes):
                raise ValueError(
                    f'leaves="paired" needs as many output modes as input modes, got input_modes='
                    f"{list(self.input_modes)} and output_modes={list(self.output_modes)}. Use "
                    f'leaves="separate" or factor both sizes into {len(self.input_modes)} modes.'
                )
            outs = self.output_modes or (1,) * len(self.input_modes)
            self.leaf_shapes = tuple(zip(self.input_modes, outs))
            default_order = list(range(len(self.leaf_shapes)))
        else:
            d_in, d_out = len(self.input_modes), len(self.output_modes)
            self.leaf_shapes = tuple((m, 1) for m in self.input_modes) + tuple((1, m) for m in self.output_modes)
            default_order = []
            for k in range(max(d_in, d_out)):
                if k < d_in:
                    default_order.append(k)
                if k < d_out:
                    default_order.append(d_in + k)
        num_leaves = len(self.leaf_shapes)
        if num_leaves < 2:
            raise ValueError(
                "An HT tree needs at least two leaves; got a single mode. Give at least two modes in total "
                "(e.g. split the size into two factors)."
            )
        if structure is None:
            self.structure = balanced_structure(default_order)
        else:
            self.structure = parse_structure(structure)
            found = _structure_leaves(self.structure)
            if sorted(found) != list(range(num_leaves)):
                missing = sorted(set(range(num_leaves)) - set(found))
                extra = sorted(x for x in set(found) if found.count(x) > 1 or not 0 <= x < num_leaves)
                raise ValueError(
                    f"`tree` must use every leaf number 0..{num_leaves - 1} exactly once "
                    f"(leaves: {self.describe_leaves()}); missing {missing}, repeated or unknown {extra}. "
                    f"The balanced default is {structure_to_config(balanced_structure(default_order))}."
                )
        self.nodes = self._build_nodes()

    # -- construction -------------------------------------------------------------------------------
    def _build_nodes(self) -> tuple:
        nodes = []

        def visit(s):
            if isinstance(s, int):
                nodes.append([len(nodes), (s,), (), None])
                return len(nodes) - 1
            left, right = visit(s[0]), visit(s[1])
            nodes.append([len(nodes), nodes[left][1] + nodes[right][1], (left, right), None])
            nodes[left][3] = nodes[right][3] = len(nodes) - 1
            return len(nodes) - 1

        visit(self.structure)
        return tuple(Node(*n) for n in nodes)

    def describe_leaves(self) -> str:
        parts = []
        for k, (a, b) in enumerate(self.leaf_shapes):
            if self.layout == "paired":
                parts.append(f"{k}=({a}x{b})")
            else:
                parts.append(f"{k}=in:{a}" if k < len(self.input_modes) else f"{k}=out:{b}")
        return ", ".join(parts)

    # -- derived facts ------------------------------------------------------------------------------
    @property
    def root(self) -> Node:
        return self.nodes[-1]

    @property
    def num_leaves(self) -> int:
        return len(self.leaf_shapes)

    @cached_property
    def leaf_nodes(self) -> tuple:
        """Leaf node for each leaf number."""
        by_leaf = {n.leaves[0]: n for n in self.nodes if n.is_leaf}
        return tuple(by_leaf[k] for k in range(self.num_leaves))

    @property
    def non_root_nodes(self) -> tuple:
        return self.nodes[:-1]

    def leaf_size(self, leaf: int) -> int:
        a, b = self.leaf_shapes[leaf]
        return a * b

    @property
    def input_size(self) -> int:
        return math.prod(self.input_modes)

    @property
    def output_size(self) -> int:
        return math.prod(self.output_modes) if self.output_modes else 1

    def depth(self, node: Node) -> int:
        d = 0
        while node.parent is not None:
            node = self.nodes[node.parent]
            d += 1
        return d

    def to_config(self) -> dict:
        return {
            "input_modes": list(self.input_modes),
            "output_modes": list(self.output_modes),
            "leaves": self.layout,
            "structure": structure_to_config(self.structure),
        }

    def __repr__(self) -> str:
        return (
            f"DimensionTree(input_modes={list(self.input_modes)}, output_modes={list(self.output_modes)}, "
            f"leaves={self.layout!r}, structure={structure_to_config(self.structure)})"
        )

    # -- ranks --------------------------------------------------------------------------------------
    def resolve_ranks(self, ranks: RankSpec, name: str = "ranks") -> tuple:
        """Ranks of all nodes in post-order (the root's is 1).

        ``ranks`` is one int for every non-root node; a sequence with one int per non-root node in
        post-order; or a mapping whose keys are leaf numbers (a leaf), tuples of leaf numbers or strings
        such as ``"0,4"`` (the node covering exactly those leaves) and which covers every non-root node.
        """
        non_root = self.non_root_nodes
        if isinstance(ranks, Mapping):
            by_leaves = {frozenset(n.leaves): n.id for n in non_root}
            values = [None] * len(non_root)
            for key, value in ranks.items():
                key_set = frozenset(rank_key_leaves(key))
                if key_set not in by_leaves:
                    raise ValueError(
                        f"`{name}` key {key!r} is not a non-root node of the tree; nodes are "
                        f"{[list(n.leaves) for n in non_root]}."
                    )
                values[by_leaves[key_set]] = value
            missing = [list(n.leaves) for n, v in zip(non_root, values) if v is None]
            if missing:
                raise ValueError(f"`{name}` has no rank for the nodes covering leaves {missing}.")
        elif isinstance(ranks, Sequence) and not isinstance(ranks, str):
            if len(ranks) != len(non_root):
                raise ValueError(
                    f"`{name}` as a list needs one rank per non-root node in post-order "
                    f"({len(non_root)}: {[list(n.leaves) for n in non_root]}), got {len(ranks)}. "
                    f"Pass one int to use the same rank everywhere."
                )
            values = list(ranks)
        else:
            values = [ranks] * len(non_root)
        values = [positive_int(v, name, ranks) for v in values]
        above = [list(n.leaves) for v, n in zip(values, non_root) if v > self.full_ranks[n.id]]
        if above:  # kept (published configurations have them), but said: they add weights, not expressive power
            warnings.warn(f"`{name}` above the full rank of the nodes covering leaves {above} (full ranks "
                          f"{[self.full_ranks[n.id] for n in non_root]}) add weights but no expressive power.",
                          stacklevel=3)
        return tuple(values) + (1,)

    @cached_property
    def full_ranks(self) -> tuple:
        """The largest useful rank of each node, in post-order: the rank of the tensor's matricization at the node,
        at most ``min(prod of the leaf sizes below it, prod of the others)`` (1 at the root)."""
        total = math.prod(self.leaf_size(k) for k in range(self.num_leaves))
        inside = [math.prod(self.leaf_size(k) for k in n.leaves) for n in self.nodes]
        return tuple(min(size, total // size) for size in inside)
