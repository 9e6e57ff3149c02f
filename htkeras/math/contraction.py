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

A step whose operands are laid out as matrices, ``[shared][contracted][free]`` or ``[shared][free][contracted]``
(an operand's leading free labels may broadcast over the other), runs as one batched ``matmul`` with
transpose flags and reshapes only: no data moves but the product's. Each product of a batch costs a fixed
time too (``PRODUCT_MOVES``), and TensorFlow runs batches of larger ones slowly (``SMALL_MATRIX``): the
planner splits their rows into blocks of small products where it can. Other steps run as ``einsum``, which
may transpose its operands first (on TensorFlow's CPU kernels a transpose costs more than a product of the
same size, so the planner prefers steps of the first kind, and the output orders that keep the next steps
so).
"""

from __future__ import annotations

import itertools
import math
import string
from collections.abc import Hashable, Sequence
from dataclasses import dataclass, replace
from typing import NamedTuple

import numpy as np

LETTERS = string.ascii_letters
BATCH = "batch"  # the label of the input's batch axis in every layer's network
NOMINAL_BATCH = 32  # the batch size plans are chosen for where the real one is not known when tracing
# One float moved (read or written) costs about as much time as this many FLOPs. Measured on the 2-core
# AVX2 machine of benchmarks/dense_layers.py: ~130 GFLOP/s in its Dense matmul, ~4 G floats/s in one read
# of its input.
MEMORY_WEIGHT = 32
# Each einsum has a fixed cost as well: about 2 microseconds per op in a compiled TensorFlow graph on that
# machine (a chain of tiny einsums), which at ~130 GFLOP/s is this many FLOPs. It decides small maps.
STEP_OVERHEAD = 250_000
# TensorFlow's CPU batched matmul spreads the products of a batch over its threads only when each has at
# most this many multiply-adds (``kMaxCostOuterParallelism`` in tensorflow/core/kernels/matmul_op_impl.h);
# larger ones run one after another, each split over the threads, much slower for mid-sized matrices (768
# products of 5 x 20 by 20 x 360 took 3x as long as one product over the same input). The planner splits
# the rows of such products into blocks below it (``_row_blocks``) where it can, and charges the rest.
SMALL_MATRIX = 128 * 128
# Each product of a batched matmul has a fixed cost as well, counted as moving this many numbers: on that
# machine 100,000 products of 2 x 2 matrices took ~9 ms, and 15,000 products of 5 x 20 by 20 x 5 matrices
# 3.5-4.4 ms against 1.4 ms for the same numbers in one product. Of 0, 200 and 500, 200 gave the fastest
# plans over the shapes of benchmarks/scaling.py and dense_layers.py, timed side by side.
PRODUCT_MOVES = 200


@dataclass(frozen=True)
class Matmul:
    """How a step runs as ``matmul(P, Q)``: ``P`` is the step's right operand when ``rhs_first``, else its
    left one; each is reshaped to ``(*batch, rows, cols)`` (``p_shape``, ``q_shape``; ``-1`` where the
    batch label is) and read transposed when ``transpose_p`` / ``transpose_q``; the product is reshaped to
    ``out_shape``, one axis per label of the result. A weight operand may first be transposed (``p_perm``,
    ``q_perm``) into the layout the product needs: a small tensor, once per call."""

    rhs_first: bool
    p_shape: tuple
    q_shape: tuple
    transpose_p: bool
    transpose_q: bool
    out_shape: tuple
    p_perm: tuple | None = None  # axes permutation applied to P (a small weight operand) before the reshape
    q_perm: tuple | None = None
    row_blocks: int = 1  # P's rows split into this many blocks, one more batch axis (``_row_blocks``)

    def factors(self, lhs, rhs) -> tuple:
        """``(P, Q)`` from the step's left and right operands (tensors, or anything standing for them)."""
        return (rhs, lhs) if self.rhs_first else (lhs, rhs)


@dataclass(frozen=True)
class MatmulLayout:
    """How the planner runs ``first`` times ``second`` as one batched matmul (``_matmul_layout``): the result's
    labels ``out`` = ``(*shared, *lead, *free_first, *free_second)``; ``shared``: labels in both operands and
    kept (leading both); ``lead``: one operand's free labels before its contracted block (broadcast over the
    other); ``matrix``: ``(free_first, contracted, free_second)``; ``groups``: each operand's ``(lead, rows,
    cols)`` as stored; ``transpose``: whether each is read transposed; ``row_blocks``: the first factor's rows
    split into this many blocks (``_row_blocks``); ``rhs_first``: the step's right operand is ``P``;
    ``perms``: axis permutations applied to the operands first (None: as stored)."""

    out: tuple
    shared: tuple
    lead: tuple
    matrix: tuple
    groups: tuple
    transpose: tuple
    row_blocks: int = 1
    rhs_first: bool = False
    perms: tuple = (None, None)


class Way(NamedTuple):
    """One way to run a pairwise step (``_pair``): the result's labels, the label tuples whose sizes add up
    to the numbers it moves, the numbers-moved charge for its products (``_product_moves``, counted over the
    whole batch), whether an einsum takes the operands as ``(b, a)``, and the matmul layout (None: einsum)."""

    out: tuple
    moved: list
    products: int
    swap: bool
    layout: MatmulLayout | None


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
    matmul: Matmul | None = None  # run as one batched matmul instead of the equation


@dataclass(frozen=True)
class ContractionPlan:
    steps: tuple
    transposes: tuple = ()  # (position, axes): transposes of the final working list (see ``split``)

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

    def run(self, operands, numpy: bool = False) -> list:
        """The working list after every step: the operands contracted pairwise with ``keras.ops`` (NumPy
        arrays with NumPy when ``numpy``)."""
        backend = _NumpyOps if numpy else _KerasOps
        work = list(operands)
        for step in self.steps:
            a, b = work[step.lhs], work[step.rhs]
            for k in sorted((step.lhs, step.rhs), reverse=True):
                del work[k]
            if step.matmul is not None:
                m = step.matmul
                p, q = m.factors(a, b)
                p = p if m.p_perm is None else backend.transpose(p, m.p_perm)
                q = q if m.q_perm is None else backend.transpose(q, m.q_perm)
                p, q = backend.reshape(p, m.p_shape), backend.reshape(q, m.q_shape)
                work.append(backend.reshape(backend.matmul(p, q, m.transpose_p, m.transpose_q), m.out_shape))
            else:
                work.append(backend.einsum(step.equation, *((b, a) if step.swap else (a, b))))
        for position, axes in self.transposes:
            work[position] = backend.transpose(work[position], axes)
        return work

    def __call__(self, operands, numpy: bool = False):
        """The contraction of ``operands`` (see ``run``)."""
        (result,) = self.run(operands, numpy)
        return result

    def split(self, num_operands: int) -> tuple:
        """``(weights, rest)``: ``weights.run(operands[1:])`` does every step that involves only weights
        (operand 0 is the input) and ``rest([operands[0], *those results])`` finishes the contraction. The
        two plans do the same steps as this one, except that a weight the rest would transpose before a
        matmul (``Matmul.p_perm``, ``q_perm``) comes out of ``weights`` transposed already: once per
        sequence in a recurrent layer, not once per step."""
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
        steps, transposes = [], []
        for (a, b, _, _), step in zip(input_steps, rest.steps):
            m = step.matmul
            if m is not None:
                p, q = m.factors(a, b)
                for operand, perm, field in ((p, m.p_perm, "p_perm"), (q, m.q_perm, "q_perm")):
                    if perm is not None and operand in prepared:
                        transposes.append((prepared.index(operand), perm))
                        step = replace(step, matmul=replace(step.matmul, **{field: None}))
            steps.append(step)
        return replace(weights, transposes=tuple(transposes)), ContractionPlan(tuple(steps))


@dataclass(frozen=True)
class MatrixNetwork:
    """The tensor network of ``y = x @ W`` with ``W`` stored as factors, as a layer hands it to the planner:
    ``inputs``: the labels of ``x`` (``(BATCH, *input mode labels)``), then of each factor; ``output``: the
    labels of ``y``; ``sizes``: every label's size (the batch label's is set per plan); ``factor_shapes``: the
    shape each factor takes in the network; ``batch_label``; ``candidates``: contraction paths the format
    knows to be worth trying (opt_einsum convention)."""

    inputs: tuple
    output: tuple
    sizes: dict
    factor_shapes: tuple
    batch_label: Hashable = BATCH
    candidates: tuple = ()

    def plan(self, **options) -> ContractionPlan:
        """``plan_contraction`` of the whole network (``options``: ``batch_size``, ``weight_reuse``, ``matmuls``)."""
        return plan_contraction(self.inputs, self.output, self.sizes, self.batch_label, candidates=self.candidates,
                                **options)

    def weights_plan(self) -> ContractionPlan:
        """The plan that contracts the factors alone into the matrix, axes ``(*input labels, *output labels)``."""
        rows = tuple(lab for lab in self.inputs[0] if lab not in self.output)
        labels = rows + tuple(lab for lab in self.output if lab not in self.inputs[0])
        return plan_contraction(self.inputs[1:], labels, self.sizes)


class _KerasOps:
    """The step operations in ``keras.ops``; on TensorFlow the matmul takes transpose flags, because a
    ``keras.ops`` transpose before it would be written out (TensorFlow does not fold it into the product)."""

    @staticmethod
    def reshape(x, shape):
        from keras import ops

        return ops.reshape(x, shape)

    @staticmethod
    def einsum(equation, a, b):
        from keras import ops

        return ops.einsum(equation, a, b)

    @staticmethod
    def transpose(x, axes):
        from keras import ops

        return ops.transpose(x, axes)

    @staticmethod
    def matmul(p, q, transpose_p: bool, transpose_q: bool):
        import keras
        from keras import ops

        if keras.backend.backend() == "tensorflow":
            import tensorflow as tf

            return tf.linalg.matmul(p, q, transpose_a=transpose_p, transpose_b=transpose_q)
        if keras.backend.backend() == "torch":  # keras.ops.matmul computes float64 in float32 on PyTorch
            return (p.mT if transpose_p else p) @ (q.mT if transpose_q else q)
        return ops.matmul(ops.swapaxes(p, -1, -2) if transpose_p else p, ops.swapaxes(q, -1, -2) if transpose_q else q)


class _NumpyOps:
    reshape = staticmethod(np.reshape)
    einsum = staticmethod(np.einsum)
    transpose = staticmethod(np.transpose)

    @staticmethod
    def matmul(p, q, transpose_p: bool, transpose_q: bool):
        return np.matmul(p.swapaxes(-1, -2) if transpose_p else p, q.swapaxes(-1, -2) if transpose_q else q)


def matmuls_pay() -> bool:
    """Whether the computation being traced should run steps as batched matmuls (``plan_contraction``'s
    ``matmuls``): yes on TensorFlow graphs and eagerly, and on PyTorch; not under XLA (TensorFlow's
    ``jit_compile=True``, which Keras' ``fit`` and ``predict`` use by default, and every JAX computation),
    whose einsum needs no transposes while its batched matmuls of broadcast weights are slow on CPU."""
    import keras

    backend = keras.backend.backend()
    if backend == "jax":
        return False
    if backend == "tensorflow":
        import tensorflow as tf
        from tensorflow.python.ops import control_flow_util  # no public API says whether a trace is for XLA

        return not control_flow_util.GraphOrParentsInXlaContext(tf.compat.v1.get_default_graph())
    return True


def _equation(labels_a, labels_b, labels_out) -> str:
    letters = {}
    for label in list(labels_a) + list(labels_b) + list(labels_out):
        letters.setdefault(label, LETTERS[len(letters)])
    word = lambda labels: "".join(letters[x] for x in labels)
    return f"{word(labels_a)},{word(labels_b)}->{word(labels_out)}"


def _block_at_an_end(labels, block) -> bool:
    """Whether the labels in ``block`` are the first or the last ones of ``labels``."""
    count = sum(lab in block for lab in labels)
    return count == 0 or set(labels[:count]) <= block or set(labels[len(labels) - count :]) <= block


def _natural(first, second, out) -> tuple:
    """The result order a batched matmul of ``first`` by ``second`` writes without a transpose."""
    shared = [lab for lab in first if lab in second and lab in out]
    return (*shared, *(lab for lab in first + second if lab in out and lab not in shared))


def _matrix_view(body, contracted, contracted_last: bool):
    """Split an operand's labels after the shared ones into ``(lead, free, transposed)``: ``body`` is
    ``lead + contracted + free`` or ``free + contracted`` (``lead`` empty), or None when the contracted labels
    are not one block. ``contracted_last``: the matrix is ``free x contracted`` (a left factor), else
    ``contracted x free``; ``transposed`` when ``body`` stores it the other way round."""
    if not contracted:
        return (), tuple(body), False
    start = body.index(contracted[0])
    if tuple(body[start : start + len(contracted)]) != tuple(contracted):
        return None
    before, after = tuple(body[:start]), tuple(body[start + len(contracted) :])
    if after:
        return before, after, contracted_last
    return (), before, not contracted_last


def _matmul_layout(first, second, keep) -> MatmulLayout | None:
    """How ``first`` times ``second`` runs as one batched matmul ``(*shared, *lead, free_first, free_second)``
    keeping the labels in ``keep``: a ``MatmulLayout`` (as stored, not yet placed in a step), or None. The labels in
    both operands and kept (``shared``) must lead both, in one order; those in both and not kept are
    summed (``contracted``: one block, in one order, in each); at most one operand has ``lead`` labels
    (free labels before its contracted block, broadcast over the other operand)."""
    both = [lab for lab in first if lab in second]
    shared = tuple(lab for lab in both if lab in keep)
    if first[: len(shared)] != shared or second[: len(shared)] != shared:
        return None
    if any(lab not in keep for lab in first + second if lab not in both):
        return None  # a label of one operand summed away: einsum's job
    body_p, body_q = first[len(shared) :], second[len(shared) :]
    contracted = tuple(lab for lab in body_p if lab in second)
    if tuple(lab for lab in body_q if lab in first) != contracted:
        return None
    views = _matrix_view(body_p, contracted, True), _matrix_view(body_q, contracted, False)
    if None in views or (views[0][0] and views[1][0]):
        return None
    (lead_p, free_p, transpose_p), (lead_q, free_q, transpose_q) = views
    return MatmulLayout(
        out=shared + lead_p + lead_q + free_p + free_q, shared=shared, lead=lead_p or lead_q,
        matrix=(free_p, contracted, free_q),
        groups=((lead_p, *((contracted, free_p) if transpose_p else (free_p, contracted))),
                (lead_q, *((free_q, contracted) if transpose_q else (contracted, free_q)))),
        transpose=(transpose_p, transpose_q),
    )


def _row_blocks(layout, size, batch_label) -> int | None:
    """The fewest blocks to split the rows of ``P`` into (a reshape: each block one more matrix of the batch,
    the product's memory unchanged) so that each product has at most ``SMALL_MATRIX`` multiply-adds; None
    when ``P`` is read transposed, its rows hold the batch label, or no split is small enough. ``size``
    gives the size of a label tuple."""
    rows, contracted, cols = layout.matrix
    if layout.transpose[0] or batch_label in rows:
        return None
    count, work = size(rows), size(contracted + cols)
    return next((n for n in range(2, count + 1) if count % n == 0 and count // n * work <= SMALL_MATRIX), None)


def _weight_layouts(first, second, keep, batch_label) -> list:
    """Axis permutations ``(of first, of second)`` worth trying for a matmul step (None: as stored): as
    stored, and, when exactly one operand carries the batch label, the other (a weight tensor) transposed
    into the matrix layout the batched operand needs: the labels they share and keep, those they contract
    (both in the batched operand's order), then its free labels (in every order, up to three of them)."""
    options = [(None, None)]
    if batch_label is None or (batch_label in first) == (batch_label in second):
        return options
    weight_is_first = batch_label in second
    weight, other = (first, second) if weight_is_first else (second, first)
    shared = [lab for lab in other if lab in weight and lab in keep]
    contracted = [lab for lab in other if lab in weight and lab not in keep]
    free = [lab for lab in weight if lab not in other]
    for free_order in itertools.permutations(free) if len(free) <= 3 else [free]:
        order = shared + (list(free_order) + contracted if weight_is_first else contracted + list(free_order))
        perm = tuple(weight.index(lab) for lab in order)
        if perm != tuple(range(len(weight))):
            options.append((perm, None) if weight_is_first else (None, perm))
    return options


def _pair(a, b, rest, output, last: bool, sizes, small_first: bool = False, batch_label=None,
          matmuls: bool = True) -> list:
    """Ways (``Way``) to contract ``a`` with ``b`` (``rest``: labels of the other operands), fewest numbers
    moved first; the batch label counts at its size in ``sizes``.

    When the step can run as one matmul, the ways are its matmul layouts: the operands in either order, a
    weight operand as stored or transposed first (``_weight_layouts``). Each moves its operands and result
    once, twice more a weight it transposes, once more a weight it reads transposed (twice more an operand
    with the batch label), twice more the larger operand of a batch of larger matrices (``SMALL_MATRIX``)
    unless its first factor's rows split into blocks of small ones (``_row_blocks``), and ``PRODUCT_MOVES``
    per product of a batch (``products``). Otherwise the one way is an einsum,
    which moves twice more whatever it must transpose and once more an operand that its matmul reads
    transposed; its result keeps the labels of the larger operand first, or with ``small_first`` those of
    the smaller. Without ``matmuls``, every step is an einsum."""
    size = lambda labels: math.prod(sizes[lab] for lab in labels)
    keep = set(output) if last else set(rest) | set(output)
    larger_first = (b, a) if (size(b) < size(a)) == small_first else (a, b)
    options = []
    for first, second in (larger_first, larger_first[::-1]) if matmuls else ():
        for perms in _weight_layouts(first, second, keep, batch_label):
            p, q = (tuple(op[k] for k in perm) if perm else op for op, perm in zip((first, second), perms))
            layout = _matmul_layout(p, q, keep)
            if layout is None or (last and layout.out != tuple(output)):
                continue
            moved = [a, b, layout.out]
            moved += [op for op, perm in zip((first, second), perms) if perm for op in (op, op)]  # transposed
            for op, flag in zip((p, q), layout.transpose):  # read transposed: once more, a batched one twice
                moved += ([op, op] if batch_label in op else [op]) if flag else []
            if size(layout.shared + layout.lead) > 1 and size(sum(layout.matrix, ())) > SMALL_MATRIX:
                blocks = _row_blocks(layout, size, batch_label)
                if blocks:
                    layout = replace(layout, row_blocks=blocks)
                else:
                    moved += [max(p, q, key=size)] * 2  # batched products of larger matrices: slow kernels
            layout = replace(layout, rhs_first=first is b, perms=perms)
            products = _product_moves(layout, size)
            options.append((sum(size(t) for t in moved) + products, len(options), moved, products, layout))
    if options:
        return [Way(layout.out, moved, products, False, layout)
                for _, _, moved, products, layout in sorted(options, key=lambda o: o[:2])]
    if last:
        out = tuple(output)
    else:
        first, second = larger_first
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
    return [Way(out, moved, 0, swap, None)]


def _product_moves(layout, size) -> int:
    """``PRODUCT_MOVES`` for each product of a batched matmul layout (0 for one product, or an einsum):
    the numbers-moved equivalent of their fixed costs; ``size`` gives the size of a label tuple."""
    if layout is None:
        return 0
    products = size(layout.shared + layout.lead) * layout.row_blocks
    return PRODUCT_MOVES * products if products > 1 else 0


def _matmul(layout, out, sizes, batch_label) -> Matmul:
    """The ``Matmul`` of a ``_matmul_layout``, its shapes with ``-1`` for the batch label's group."""
    size = lambda labels: -1 if batch_label in labels else math.prod(sizes[lab] for lab in labels)
    shared, lead, blocks = layout.shared, layout.lead, layout.row_blocks
    shapes = []
    for k, (own_lead, rows, cols) in enumerate(layout.groups):
        batch = [size(shared)] if shared else []
        if own_lead or (lead and shared):  # the operand that broadcasts needs an axis only after shared ones
            batch.append(size(own_lead) if own_lead else 1)
        if blocks > 1:  # P's rows in blocks, one more batch axis (Q broadcasts over it)
            batch.append(blocks if k == 0 else 1)
        shapes.append(tuple(batch + [size(rows) // (blocks if k == 0 else 1), size(cols)]))
    transpose_p, transpose_q = layout.transpose
    return Matmul(layout.rhs_first, shapes[0], shapes[1], transpose_p, transpose_q,
                  tuple(-1 if lab == batch_label else sizes[lab] for lab in out), *layout.perms, blocks)


def _replay(path, inputs, output, sizes, batch_label, small_first: bool = False, weight_reuse: int = 1,
            matmuls: bool = True, beam: int = 8):
    """Turn a path of position pairs into the Steps of the cheapest plan (``ContractionPlan.cost``) found by
    a beam search over each step's ways (``_pair``): the ``beam`` cheapest partial plans are kept, since a
    step's result order decides whether the next steps can run as matmuls."""
    batch_size = sizes.get(batch_label, 1)
    size = lambda labels: math.prod(sizes[lab] for lab in labels if lab != batch_label)
    states = [(0.0, [tuple(x) for x in inputs], [])]
    for i, j in path:
        i, j = sorted((i, j))
        grown = []
        for cost, work, steps in states:
            a, b = work[i], work[j]
            rest = [lab for k, t in enumerate(work) if k not in (i, j) for lab in t]
            touched = set(a) | set(b)
            flops = 2 * size(touched)
            batched = batch_label in touched
            for out, moved, products, swap, layout in _pair(a, b, rest, output, len(work) == 2, sizes,
                                                            small_first, batch_label, matmuls):
                matmul = _matmul(layout, out, sizes, batch_label) if layout else None
                per_example = layout is not None and batch_label in layout.shared + layout.lead
                products //= batch_size if per_example else 1  # counted over the whole batch by _pair
                step = Step(i, j, _equation(b, a, out) if swap else _equation(a, b, out),
                            0 if batched else flops, flops if batched else 0,
                            sum(size(t) for t in moved if batch_label not in t) + (0 if per_example else products),
                            sum(size(t) for t in moved if batch_label in t) + (products if per_example else 0),
                            swap, matmul)
                step_cost = ContractionPlan((step,)).cost(batch_size, weight_reuse)
                grown.append((cost + step_cost, [*(t for k, t in enumerate(work) if k not in (i, j)), out],
                              [*steps, step]))
        cheapest = {}  # partial plans that leave the same labels: only the cheapest can lead to the best
        for state in sorted(grown, key=lambda state: state[0]):
            cheapest.setdefault(tuple(state[1]), state)
        states = list(cheapest.values())[:beam]
    return states[0][2]


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


def input_first_path(inputs, output, sizes, small_first: bool = False, batch_label=None,
                     matmuls: bool = True) -> list:
    """Absorb the factors into the input (operand 0) one at a time, each time the neighbour whose step has
    the lowest time estimate, until no input label is left; then the greedy order for the rest. Reading the
    large input once, along its memory layout, is what bounds the time of a layer with few weights."""
    work = [tuple(x) for x in inputs]
    size = lambda labels: math.prod(sizes[lab] for lab in labels)
    anchor, path = 0, []
    while len(work) > 1 and set(work[anchor]) & set(inputs[0]) - set(output):
        best = None
        for j, b in enumerate(work):
            a = work[anchor]
            if j == anchor or not set(a) & set(b):
                continue
            rest = [lab for k, t in enumerate(work) if k not in (anchor, j) for lab in t]
            out, moved, products, _, _ = _pair(a, b, rest, output, len(work) == 2, sizes, small_first, batch_label,
                                               matmuls)[0]
            moves = sum(size(t) for t in moved) + products
            cost = 2 * size(set(a) | set(b)) + MEMORY_WEIGHT * moves
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
    batch_size: int = NOMINAL_BATCH,
    candidates: Sequence[Sequence[tuple]] = (),
    weight_reuse: int = 1,
    matmuls: bool = True,
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
        matmuls: run the steps that allow it as batched matmuls (see the module docstring); False: every
            step is an einsum, the better plan under XLA (``matmuls_pay``).
    """
    sizes = dict(sizes)
    if batch_label is not None:
        sizes[batch_label] = batch_size
    if len(inputs) < 2:
        raise ValueError("A contraction plan needs at least two operands.")
    paths = [greedy_path(inputs, output, sizes), weights_first_path(inputs, output, sizes), *candidates]
    paths += [p for p in (numpy_greedy_path(inputs, output, sizes), optimal_path(inputs, output, sizes)) if p]
    plans = [
        ContractionPlan(tuple(_replay(path, inputs, tuple(output), sizes, batch_label, small_first, weight_reuse,
                                      matmuls)))
        for small_first in (False, True)
        for path in [*paths, input_first_path(inputs, output, sizes, small_first, batch_label, matmuls)]
    ]
    return min(plans, key=lambda plan: (plan.cost(batch_size, weight_reuse), plan.flops(batch_size)))
