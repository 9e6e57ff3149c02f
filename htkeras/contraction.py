"""Pairwise contraction plans for small tensor networks, run with ``keras.ops.einsum``.

A factorized linear map ``y = x W`` is a tensor network: the input batch ``x`` and the factors of ``W``
joined by shared labels. ``plan_contraction`` replays several candidate orders and keeps the one with the
lowest estimated time at a nominal batch size. The estimate of a pairwise step is its FLOPs (2 x the
product of all label sizes it touches), a fixed ``STEP_OVERHEAD`` (one op's launch), and ``MEMORY_WEIGHT``
FLOPs for every number it moves: both operands and the result, and twice an operand that ``einsum`` must
transpose first because its contracted labels are not one block at either end (a transposed input of a
UCF11 layer costs more than all of its arithmetic). A plan is static: it is chosen once, at layer build
time, and runs on any Keras backend.

Steps that involve only weights (no batch label) are computed once per call, whatever the batch size;
``ContractionPlan.flops(batch)`` reports both parts. ``ContractionPlan.split`` separates them, so that a
recurrent layer runs them once per sequence (``weight_reuse``: the calls that share one result, e.g. the
time steps; the weight-only part of the estimate is divided by it, which can favour forming more of the
weights up front, up to the whole matrix).
"""

from __future__ import annotations

import math
import string
from dataclasses import dataclass, replace
from typing import Hashable, Sequence

import numpy as np

LETTERS = string.ascii_letters
# One float moved (read or written) costs about as much time as this many FLOPs. Measured on the 2-core
# AVX2 machine of benchmarks/dense_layers.py: ~130 GFLOP/s in its Dense matmul, ~4 G floats/s in one read
# of its input.
MEMORY_WEIGHT = 32
# Each einsum has a fixed cost as well: about 2 microseconds per op in a compiled TensorFlow graph on that
# machine (a chain of tiny einsums), which at ~130 GFLOP/s is this many FLOPs. It decides small maps.
STEP_OVERHEAD = 250_000


@dataclass(frozen=True)
class Step:
    """Contract the working-list entries at positions ``lhs`` and ``rhs`` (both removed, the result
    appended); the equation takes them as ``(lhs, rhs)``, or ``(rhs, lhs)`` when ``swap``."""

    lhs: int
    rhs: int
    equation: str
    fixed_flops: int
    per_example_flops: int
    fixed_moved: int = 0  # numbers read and written (transposes included), see the module docstring
    per_example_moved: int = 0
    swap: bool = False  # the equation takes the operands as (rhs, lhs)


@dataclass(frozen=True)
class ContractionPlan:
    steps: tuple

    def flops(self, batch_size: int = 1) -> int:
        """Multiply-adds x 2 for one call on ``batch_size`` examples."""
        return sum(s.fixed_flops + batch_size * s.per_example_flops for s in self.steps)

    def cost(self, batch_size: int = 1, weight_reuse: int = 1) -> float:
        """Estimated time in FLOP units per call: FLOPs plus ``MEMORY_WEIGHT`` per number moved plus
        ``STEP_OVERHEAD`` per step, the weight-only part divided by ``weight_reuse`` (the calls sharing it)."""
        weight_steps = [s for s in self.steps if not s.per_example_flops]
        fixed = sum(s.fixed_flops + MEMORY_WEIGHT * s.fixed_moved for s in self.steps)
        fixed += STEP_OVERHEAD * len(weight_steps)
        per_call = STEP_OVERHEAD * (len(self.steps) - len(weight_steps))
        per_example = sum(s.per_example_flops + MEMORY_WEIGHT * s.per_example_moved for s in self.steps)
        return fixed / weight_reuse + per_call + batch_size * per_example

    def run(self, operands, einsum=None) -> list:
        """The working list after every step: the operands, contracted pairwise with ``keras.ops.einsum``
        (or the given ``einsum``, e.g. NumPy's)."""
        if einsum is None:
            from keras.ops import einsum

        work = list(operands)
        for step in self.steps:
            a, b = work[step.lhs], work[step.rhs]
            for k in sorted((step.lhs, step.rhs), reverse=True):
                del work[k]
            work.append(einsum(step.equation, b, a) if step.swap else einsum(step.equation, a, b))
        return work

    def __call__(self, operands, einsum=None):
        """The contraction of ``operands`` (see ``run``)."""
        (result,) = self.run(operands, einsum)
        return result

    def split(self, num_operands: int) -> tuple:
        """``(weights, rest)``: ``weights.run(operands[1:])`` does every step that involves only weights
        (operand 0 is the input) and ``rest([operands[0], *those results])`` finishes the contraction. The
        two plans do the same steps as this one."""
        work = list(range(num_operands))  # node ids; node 0 is the input
        from_input, weight_steps, input_steps = {0}, [], []
        for step in self.steps:
            a, b = work[step.lhs], work[step.rhs]
            for k in sorted((step.lhs, step.rhs), reverse=True):
                del work[k]
            node = num_operands + len(weight_steps) + len(input_steps)
            work.append(node)
            if a in from_input or b in from_input:
                from_input.add(node)
                input_steps.append((a, b, node, step))
            else:
                weight_steps.append((a, b, node, step))

        def replay(start, steps):
            work, replayed = list(start), []
            for a, b, node, step in steps:
                replayed.append(replace(step, lhs=work.index(a), rhs=work.index(b)))
                work.remove(a)
                work.remove(b)
                work.append(node)
            return ContractionPlan(tuple(replayed)), work

        weights, prepared = replay(range(1, num_operands), weight_steps)
        rest, _ = replay([0, *prepared], input_steps)
        return weights, rest


def _equation(labels_a, labels_b, labels_out) -> str:
    letters = {}
    for label in list(labels_a) + list(labels_b) + list(labels_out):
        letters.setdefault(label, LETTERS[len(letters)])
    word = lambda labels: "".join(letters[x] for x in labels)  # noqa: E731
    return f"{word(labels_a)},{word(labels_b)}->{word(labels_out)}"


def _block_at_an_end(labels, block) -> bool:
    """Whether the labels in ``block`` are the first or the last ones of ``labels``."""
    count = sum(lab in block for lab in labels)
    return count == 0 or set(labels[:count]) <= block or set(labels[len(labels) - count :]) <= block


def _natural(first, second, out) -> tuple:
    """The result order a batched matmul of ``first`` by ``second`` writes without a transpose."""
    shared = [lab for lab in first if lab in second and lab in out]
    return (*shared, *(lab for lab in first + second if lab in out and lab not in shared))


def _pair(a, b, rest, output, last: bool, sizes, small_first: bool = False):
    """Contract ``a`` with ``b`` (``rest``: labels of the other operands): ``(out, moved, swap)``, the result's
    labels, the label tuples whose sizes add up to the numbers the step moves (operands, result, twice more
    whatever ``einsum`` must transpose, once more an operand the matmul reads transposed: the left one with
    its contracted labels first, the right one with them last), and whether to pass the operands as
    ``(b, a)``.

    The result keeps the labels of the larger operand first, or with ``small_first`` those of the smaller
    (then the larger operand's remaining labels stay at the end, in its memory order)."""
    if last:  # the last step writes the result in the requested order
        out = tuple(output)
    else:
        keep = set(rest) | set(output)
        size = lambda labels: math.prod(sizes[lab] for lab in labels)  # noqa: E731
        first, second = (b, a) if (size(b) < size(a)) == small_first else (a, b)
        out = tuple(dict.fromkeys(lab for lab in first + second if lab in keep))
    swap = out != _natural(a, b, out) and out == _natural(b, a, out)
    moved = [a, b, out]
    shared_kept = [lab for lab in a if lab in b and lab in out]
    lhs = b if swap else a
    for operand, other in ((a, b), (b, a)):
        contracted = {lab for lab in operand if lab in other and lab not in out}
        head, body = tuple(operand[: len(shared_kept)]), operand[len(shared_kept) :]
        if set(head) != set(shared_kept) or not _block_at_an_end(body, contracted):
            moved += [operand, operand]  # einsum transposes it: read and write once more
        elif contracted:
            wrong_end = body[: len(contracted)] if operand is lhs else body[-len(contracted) :]
            if set(wrong_end) == contracted:
                moved += [operand]  # read against its layout (a transposed matmul operand): about one more read
    if out not in (_natural(a, b, out), _natural(b, a, out)):
        moved += [out, out]
    return out, moved, swap


def _replay(path, inputs, output, sizes, batch_label, small_first: bool = False):
    """Turn a path of position pairs into Steps (``small_first``: see ``_pair``)."""
    work = [tuple(x) for x in inputs]
    steps = []
    size = lambda labels: math.prod(sizes[lab] for lab in labels if lab != batch_label)  # noqa: E731
    for i, j in path:
        i, j = sorted((i, j))
        a, b = work[i], work[j]
        rest = [lab for k, t in enumerate(work) if k not in (i, j) for lab in t]
        out, moved, swap = _pair(a, b, rest, output, len(work) == 2, sizes, small_first)
        touched = set(a) | set(b)
        flops = 2 * size(touched)
        fixed_moved = sum(size(t) for t in moved if batch_label not in t)
        per_example_moved = sum(size(t) for t in moved if batch_label in t)
        batched = batch_label in touched
        equation = _equation(b, a, out) if swap else _equation(a, b, out)
        steps.append(Step(i, j, equation, 0 if batched else flops, flops if batched else 0, fixed_moved,
                          per_example_moved, swap))
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


def input_first_path(inputs, output, sizes, small_first: bool = False) -> list:
    """Absorb the factors into the input (operand 0) one at a time, each time the neighbour whose step has
    the lowest time estimate, until no input label is left; then the greedy order for the rest. Reading the
    large input once, along its memory layout, is what bounds the time of a layer with few weights."""
    work = [tuple(x) for x in inputs]
    size = lambda labels: math.prod(sizes[lab] for lab in labels)  # noqa: E731
    anchor, path = 0, []
    while len(work) > 1 and set(work[anchor]) & set(inputs[0]) - set(output):
        best = None
        for j, b in enumerate(work):
            a = work[anchor]
            if j == anchor or not set(a) & set(b):
                continue
            rest = [lab for k, t in enumerate(work) if k not in (anchor, j) for lab in t]
            out, moved, _ = _pair(a, b, rest, output, len(work) == 2, sizes, small_first)
            cost = 2 * size(set(a) | set(b)) + MEMORY_WEIGHT * sum(size(t) for t in moved)
            if best is None or cost < best[0]:
                best = (cost, j, out)
        _, j, out = best
        i, j = sorted((anchor, j))
        path.append((i, j))
        del work[j], work[i]
        work.append(out)
        anchor = len(work) - 1
    return path + greedy_path(work, output, sizes)


def weights_first_path(inputs, output, sizes) -> list:
    """Contract all the weights (operands 1..) into one tensor in the greedy order, then the input with it:
    the dense matrix when the weights form one connected network."""
    keep = tuple(dict.fromkeys(lab for lab in inputs[0] if lab not in output)) + tuple(output)
    inner = greedy_path(inputs[1:], keep, sizes) if len(inputs) > 2 else []
    return [(i + 1, j + 1) for i, j in inner] + [(0, 1)]


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
    weight_reuse: int = 1,
) -> ContractionPlan:
    """The plan with the lowest time estimate (``ContractionPlan.cost``) among the greedy orders, the
    input-first and weights-first orders, the order with fewest FLOPs (small networks) and the given paths.

    Args:
        inputs: labels of each operand, in the order the operands will be passed to the plan.
        output: labels of the result, in order.
        sizes: size of every label; the batch label's entry is ignored (``batch_size`` is used).
        batch_label: the label whose size is unknown until run time.
        batch_size: nominal batch size for choosing between orders.
        candidates: extra paths (lists of position pairs, opt_einsum convention).
        weight_reuse: calls that share one run of the weight-only steps (``ContractionPlan.split``).
    """
    sizes = dict(sizes)
    if batch_label is not None:
        sizes[batch_label] = batch_size
    if len(inputs) < 2:
        raise ValueError("A contraction plan needs at least two operands.")
    paths = [greedy_path(inputs, output, sizes), weights_first_path(inputs, output, sizes), *candidates]
    paths += [p for p in (numpy_greedy_path(inputs, output, sizes), optimal_path(inputs, output, sizes)) if p]
    plans = [
        ContractionPlan(tuple(_replay(path, inputs, tuple(output), sizes, batch_label, small_first)))
        for small_first in (False, True)
        for path in [*paths, input_first_path(inputs, output, sizes, small_first)]
    ]
    return min(plans, key=lambda plan: (plan.cost(batch_size, weight_reuse), plan.flops(batch_size)))
