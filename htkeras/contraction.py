"""Pairwise contraction plans for small tensor networks, run with ``keras.ops.einsum``.

A factorized linear map ``y = x W`` is a tensor network: the input batch ``x`` and the factors of ``W``
joined by shared labels. ``plan_contraction`` picks the order in which pairs of tensors are contracted by
estimating FLOPs (2 x the product of all label sizes a pairwise contraction touches) for several candidate
orders and keeping the cheapest at a nominal batch size. A plan is static: it is chosen once, at layer
build time, and runs on any Keras backend.

Steps that involve only weights (no batch label) are computed once per call, whatever the batch size;
``ContractionPlan.flops(batch)`` reports both parts.
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass
from typing import Hashable, Sequence

import numpy as np

LETTERS = string.ascii_letters


@dataclass(frozen=True)
class Step:
    """Contract the working-list entries ``lhs < rhs`` (both removed, the result appended)."""

    lhs: int
    rhs: int
    equation: str
    fixed_flops: int
    per_example_flops: int


@dataclass(frozen=True)
class ContractionPlan:
    steps: tuple

    def flops(self, batch_size: int = 1) -> int:
        """Multiply-adds x 2 for one call on ``batch_size`` examples."""
        return sum(s.fixed_flops + batch_size * s.per_example_flops for s in self.steps)

    def __call__(self, operands, einsum=None):
        """Contract ``operands`` with ``keras.ops.einsum`` (or the given ``einsum``, e.g. NumPy's)."""
        if einsum is None:
            from keras.ops import einsum

        work = list(operands)
        for step in self.steps:
            b = work.pop(step.rhs)
            a = work.pop(step.lhs)
            work.append(einsum(step.equation, a, b))
        (result,) = work
        return result


def _equation(labels_a, labels_b, labels_out) -> str:
    letters = {}
    for label in list(labels_a) + list(labels_b) + list(labels_out):
        letters.setdefault(label, LETTERS[len(letters)])
    word = lambda labels: "".join(letters[x] for x in labels)  # noqa: E731
    return f"{word(labels_a)},{word(labels_b)}->{word(labels_out)}"


def _replay(path, inputs, output, sizes, batch_label):
    """Turn a path of position pairs into Steps."""
    work = [tuple(x) for x in inputs]
    steps = []
    for i, j in path:
        i, j = sorted((i, j))
        a, b = work[i], work[j]
        rest = [lab for k, t in enumerate(work) if k not in (i, j) for lab in t]
        if len(work) == 2:  # the last step writes the result in the requested order
            out = tuple(output)
        else:
            keep = set(rest) | set(output)
            out = tuple(dict.fromkeys(lab for lab in a + b if lab in keep))
        touched = set(a) | set(b)
        size = math.prod(sizes[lab] for lab in touched if lab != batch_label)
        if batch_label in touched:
            fixed, per_example = 0, 2 * size
        else:
            fixed, per_example = 2 * size, 0
        steps.append(Step(i, j, _equation(a, b, out), fixed, per_example))
        del work[j], work[i]
        work.append(out)
    return steps


def greedy_path(inputs, output, sizes) -> list:
    """Repeatedly contract the pair that costs fewest FLOPs (pairs sharing a label first)."""
    work = [tuple(x) for x in inputs]
    path = []
    while len(work) > 1:
        best = None
        for i in range(len(work)):
            for j in range(i + 1, len(work)):
                a, b = work[i], work[j]
                shares = bool(set(a) & set(b))
                rest = {lab for k, t in enumerate(work) if k not in (i, j) for lab in t}
                out = [lab for lab in dict.fromkeys(a + b) if lab in rest or lab in output]
                cost = math.prod(sizes[lab] for lab in set(a) | set(b))
                key = (not shares, cost, math.prod(sizes[lab] for lab in out))
                if best is None or key < best[0]:
                    best = (key, i, j, tuple(out))
        _, i, j, out = best
        path.append((i, j))
        del work[j], work[i]
        work.append(out)
    return path


def numpy_greedy_path(inputs, output, sizes):
    """NumPy's (opt_einsum's) size-based greedy path; None when there are too many labels or it is not a
    sequence of pairwise contractions."""
    labels = list(dict.fromkeys(lab for t in inputs for lab in t))
    if len(labels) > len(LETTERS):
        return None
    letter = {lab: LETTERS[k] for k, lab in enumerate(labels)}
    eq = ",".join("".join(letter[x] for x in t) for t in inputs) + "->" + "".join(letter[x] for x in output)
    dummies = [np.broadcast_to(np.zeros((), np.float32), tuple(sizes[x] for x in t)) for t in inputs]
    path, _ = np.einsum_path(eq, *dummies, optimize="greedy")
    steps = [tuple(p) for p in path[1:]]
    return steps if all(len(p) == 2 for p in steps) else None  # pairs only (no one-operand reductions)


def optimal_path(inputs, output, sizes, max_operands: int = 10):
    """The pairwise order with fewest FLOPs, by dynamic programming over subsets of operands
    (``O(3^n)`` pairs of subsets; None above ``max_operands``). Outer products are allowed, and a label
    shared by more than two operands (a CP rank, a block-term block) stays until its last operand joins."""
    count = len(inputs)
    if count > max_operands:
        return None
    full = (1 << count) - 1
    label_sets = [set(t) for t in inputs]

    def labels_of(mask):
        inside = set().union(*(label_sets[k] for k in range(count) if mask >> k & 1))
        outside = set().union(*(label_sets[k] for k in range(count) if not mask >> k & 1), output)
        return inside & outside if mask != full else set(output)

    result = {1 << k: labels_of(1 << k) for k in range(count)}
    best = {1 << k: (0, None) for k in range(count)}
    for mask in range(1, full + 1):
        if mask in best:
            continue
        result[mask] = labels_of(mask)
        low = mask & -mask
        sub = (mask - 1) & mask
        choice = None
        while sub:
            if sub & low:  # each split once: the part holding the lowest operand
                other = mask ^ sub
                touched = result[sub] | result[other]
                cost = best[sub][0] + best[other][0] + 2 * math.prod(sizes[lab] for lab in touched)
                if choice is None or cost < choice[0]:
                    choice = (cost, (sub, other))
            sub = (sub - 1) & mask
        best[mask] = choice
    path, work = [], [1 << k for k in range(count)]

    def emit(mask):
        split = best[mask][1]
        if split is None:
            return
        emit(split[0])
        emit(split[1])
        i, j = sorted((work.index(split[0]), work.index(split[1])))
        path.append((i, j))
        del work[j], work[i]
        work.append(mask)

    emit(full)
    return path


def plan_contraction(
    inputs: Sequence[Sequence[Hashable]],
    output: Sequence[Hashable],
    sizes: dict,
    batch_label: Hashable | None = None,
    batch_size: int = 32,
    candidates: Sequence[Sequence[tuple]] = (),
) -> ContractionPlan:
    """Cheapest plan among the greedy orders, the optimal order (small networks) and the given paths.

    Args:
        inputs: labels of each operand, in the order the operands will be passed to the plan.
        output: labels of the result, in order.
        sizes: size of every label; the batch label's entry is ignored (``batch_size`` is used).
        batch_label: the label whose size is unknown until run time.
        batch_size: nominal batch size for choosing between orders.
        candidates: extra paths (lists of position pairs, opt_einsum convention).
    """
    sizes = dict(sizes)
    if batch_label is not None:
        sizes[batch_label] = batch_size
    if len(inputs) < 2:
        raise ValueError("A contraction plan needs at least two operands.")
    paths = [greedy_path(inputs, output, sizes), *candidates]
    paths += [p for p in (numpy_greedy_path(inputs, output, sizes), optimal_path(inputs, output, sizes)) if p]
    best = None
    for path in paths:
        plan = ContractionPlan(tuple(_replay(path, inputs, tuple(output), sizes, batch_label)))
        if best is None or plan.flops(batch_size) < best.flops(batch_size):
            best = plan
    return best
