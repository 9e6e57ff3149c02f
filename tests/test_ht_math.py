"""The HT math module against dense reconstructions, in float32 and float64."""

import keras
import numpy as np
import pytest

from htkeras import contraction, ht
from htkeras.math.contraction import plan_contraction
from htkeras.math.tree import DimensionTree


def random_structure(leaves, rng):
    leaves = list(leaves)
    if len(leaves) == 1:
        return leaves[0]
    cut = int(rng.integers(1, len(leaves)))
    return [random_structure(leaves[:cut], rng), random_structure(leaves[cut:], rng)]


def random_tree(rng, layout):
    d = int(rng.integers(2, 4))
    ins = [int(v) for v in rng.integers(1, 5, size=d)]
    outs = [int(v) for v in rng.integers(1, 5, size=d if layout == "paired" else int(rng.integers(1, 4)))]
    num = d if layout == "paired" else len(ins) + len(outs)
    return DimensionTree(ins, outs, layout, random_structure(rng.permutation(num).tolist(), rng))


def random_factors(tree, ranks, rng, dtype):
    return [rng.standard_normal(s).astype(dtype) for s in ht.factor_shapes(tree, ranks)]


@pytest.mark.parametrize("dtype, tol", [(np.float64, 1e-10), (np.float32, 1e-4)])
@pytest.mark.parametrize("layout", ["separate", "paired"])
def test_network_contraction_equals_dense(dtype, tol, layout, rng):
    for _ in range(10):
        tree = random_tree(rng, layout)
        ranks = tree.resolve_ranks(int(rng.integers(1, 5)))
        factors = random_factors(tree, ranks, rng, dtype)
        dense = ht.to_dense(tree, factors)
        assert dense.shape == (tree.input_size, tree.output_size)
        net = ht.network(tree, ranks)
        inputs, output, sizes, shapes = net.inputs, net.output, net.sizes, net.factor_shapes
        x = rng.standard_normal((3, tree.input_size)).astype(dtype)
        for candidates in ([], [ht.bottom_up_path(tree)]):
            plan = plan_contraction(inputs, output, sizes, ht.BATCH, candidates=candidates)
            operands = [x.reshape(3, *tree.input_modes)] + [f.reshape(s) for f, s in zip(factors, shapes)]
            y = plan(operands, numpy=True).reshape(3, -1)
            np.testing.assert_allclose(y, x @ dense, atol=tol * np.abs(x @ dense).max(), rtol=0)


def test_parameter_count_formula():
    tree = DimensionTree([8, 20, 20, 18], [16, 4, 4, 4])
    ranks = tree.resolve_ranks(5)
    # 8 leaves: (8 + 20 + 20 + 18 + 16 + 4 + 4 + 4) * 5; 6 inner nodes: 5^3; root: 5^2.
    assert ht.parameter_count(tree, ranks) == 94 * 5 + 6 * 125 + 25 == 1245
    assert ht.num_terms(tree, ranks) == 5**14


@pytest.mark.parametrize("layout", ["separate", "paired"])
def test_ht_svd_recovers_exact_rank(layout, rng):
    for _ in range(5):
        tree = random_tree(rng, layout)
        ranks = tree.resolve_ranks(2)
        dense = ht.to_dense(tree, random_factors(tree, ranks, rng, np.float64))
        result = ht.ht_svd(dense, tree, max_rank=2)
        error = np.linalg.norm(result.to_dense() - dense) / np.linalg.norm(dense)
        assert error < 1e-8 and result.relative_error < 1e-8
        assert result.num_parameters <= ht.parameter_count(tree, ranks)


def test_ht_svd_error_falls_with_rank_and_is_reported_exactly(rng):
    tree = DimensionTree([4, 3, 4], [3, 4, 2])
    dense = rng.standard_normal((tree.input_size, tree.output_size))
    errors = []
    for rank in range(1, 33):  # the root's children need rank 32 = 4 * 4 * 2
        result = ht.ht_svd(dense, tree, max_rank=rank)
        measured = np.linalg.norm(result.to_dense() - dense) / np.linalg.norm(dense)
        np.testing.assert_allclose(result.relative_error, measured, rtol=1e-6, atol=1e-12)
        errors.append(measured)
    assert all(b <= a + 1e-12 for a, b in zip(errors, errors[1:]))
    assert errors[0] > 0.5 and errors[-1] < 1e-10


@pytest.mark.parametrize("rtol", [0.05, 0.2, 0.5])
def test_ht_svd_respects_tolerance(rtol, rng):
    tree = DimensionTree([4, 4, 4], [4, 4], leaves="separate")
    # Low HT rank plus smaller and smaller higher-rank parts, so the tolerance changes the ranks.
    dense = sum(
        scale * ht.to_dense(tree, random_factors(tree, tree.resolve_ranks(rank), rng, np.float64))
        for scale, rank in [(1.0, 2), (0.1, 3), (0.01, 5)]
    )
    dense /= np.linalg.norm(dense)
    result = ht.ht_svd(dense, tree, rtol=rtol)
    error = np.linalg.norm(result.to_dense() - dense) / np.linalg.norm(dense)
    assert error <= rtol
    assert result.num_parameters < ht.ht_svd(dense, tree).num_parameters


def test_ht_svd_keeps_float32(rng):
    tree = DimensionTree([4, 4], [4, 4], leaves="paired")
    dense = rng.standard_normal((16, 16)).astype(np.float32)
    result = ht.ht_svd(dense, tree)
    assert all(f.dtype == np.float32 for f in result.factors)
    np.testing.assert_allclose(result.to_dense(), dense, atol=1e-4)


def test_plan_prefers_cheaper_orders():
    tree = DimensionTree([8, 20, 20, 18], [16, 4, 4, 4])
    net = ht.network(tree, tree.resolve_ranks(5))
    inputs, output, sizes, _ = net.inputs, net.output, net.sizes, net.factor_shapes
    plan = plan_contraction(inputs, output, sizes, ht.BATCH, batch_size=96, candidates=[ht.bottom_up_path(tree)])
    dense_flops = 2 * 57600 * 1024
    assert plan.flops(96) / 96 < dense_flops / 20  # far cheaper than x @ W per example, at the planned batch


@pytest.mark.parametrize("matmuls", [False, True])
def test_plan_reads_the_input_along_its_memory_layout(matmuls):
    """The first step reads the large input along its memory layout, never transposed (the time estimate
    counts a transpose as moving a tensor twice more): an einsum plan contracts its last (contiguous) mode;
    a matmul plan may contract an inner mode as a batch of products over the modes before it."""
    tree = DimensionTree([8, 20, 20, 18], [16, 4, 4, 4])
    net = ht.network(tree, tree.resolve_ranks(5))
    inputs, output, sizes, _ = net.inputs, net.output, net.sizes, net.factor_shapes
    plan = plan_contraction(inputs, output, sizes, ht.BATCH, batch_size=96, matmuls=matmuls)
    first = plan.steps[0]
    assert first.lhs == 0  # x takes part
    if matmuls:
        m = first.matmul
        x_is_p = m.rhs_first == (first.rhs == 0)
        assert not (m.transpose_p if x_is_p else m.transpose_q) and (m.p_perm if x_is_p else m.q_perm) is None
    else:
        x_labels, factor_labels = first.equation.split("->")[0].split(",")[:: -1 if first.swap else 1]
        assert first.matmul is None and x_labels[-1] in factor_labels  # its last mode
        assert first.per_example_moved == 57600 + 3200 * 5  # read x once, write the result once


def test_split_transposes_weights_once(rng):
    """Weights that the plan's matmuls need in another layout come out of the weight-only plan transposed
    (once per sequence in a recurrent layer): the per-call steps transpose nothing, and the result holds."""
    tree = DimensionTree([4, 5, 3], [2, 3, 4])
    ranks = tree.resolve_ranks(3)
    net = ht.network(tree, ranks)
    inputs, output, sizes, shapes = net.inputs, net.output, net.sizes, net.factor_shapes
    plan = plan_contraction(inputs, output, sizes, ht.BATCH, batch_size=96, weight_reuse=40)
    weights, rest = plan.split(len(inputs))
    assert any(s.matmul and (s.matmul.p_perm or s.matmul.q_perm) for s in plan.steps)
    assert weights.transposes and not any(s.matmul and (s.matmul.p_perm or s.matmul.q_perm) for s in rest.steps)
    operands = [rng.standard_normal((6, 4, 5, 3))] + [rng.standard_normal(s) for s in shapes]
    prepared = weights.run(operands[1:], numpy=True)
    np.testing.assert_allclose(rest([operands[0], *prepared], numpy=True), plan(operands, numpy=True),
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("matmuls", [False, True])
def test_plans_with_and_without_matmuls_agree(matmuls, rng):
    """Every layer's plan, run as matmuls where it can or as einsums only, equals the dense product."""
    tree = DimensionTree([4, 6, 5], [3, 2, 4])
    net = ht.network(tree, tree.resolve_ranks(3))
    inputs, output, sizes, shapes = net.inputs, net.output, net.sizes, net.factor_shapes
    operands = [rng.standard_normal((7, 4, 6, 5))] + [rng.standard_normal(s) for s in shapes]
    plan = plan_contraction(inputs, output, sizes, ht.BATCH, batch_size=7, matmuls=matmuls)
    assert any(s.matmul for s in plan.steps) == matmuls
    factors = [op.reshape(ht.factor_shapes(tree, tree.resolve_ranks(3))[k]) for k, op in enumerate(operands[1:])]
    dense = ht.to_dense(tree, factors)
    np.testing.assert_allclose(plan(operands, numpy=True).reshape(7, -1), operands[0].reshape(7, -1) @ dense,
                               rtol=1e-10, atol=1e-10)


@pytest.mark.parametrize("backend_ops", ["numpy", "keras"])
def test_row_blocks_keep_batched_products_small(backend_ops, monkeypatch, rng):
    """Batched products above ``SMALL_MATRIX`` multiply-adds each (slow on TensorFlow's CPU kernels) get
    their first factor's rows split into blocks below it where they can: a reshape that leaves the result
    unchanged, equal to the dense product."""
    monkeypatch.setattr(contraction, "SMALL_MATRIX", 40)
    monkeypatch.setattr(contraction, "PRODUCT_MOVES", 0)  # blocks free of their per-product charge
    tree = DimensionTree([4, 6, 5], [3, 2, 4])
    net = ht.network(tree, tree.resolve_ranks(3))
    inputs, output, sizes, shapes = net.inputs, net.output, net.sizes, net.factor_shapes
    plan = plan_contraction(inputs, output, sizes, ht.BATCH, batch_size=7)
    blocked = [s.matmul for s in plan.steps if s.matmul and s.matmul.row_blocks > 1]
    assert blocked
    for m in blocked:
        *_, rows, inner = m.p_shape
        cols = m.q_shape[-2 if m.transpose_q else -1]
        assert m.p_shape[-3] == m.row_blocks and m.q_shape[-3] == 1 and rows * inner * cols <= 40
    operands = [rng.standard_normal((7, 4, 6, 5)).astype("float32")]
    operands += [rng.standard_normal(s).astype("float32") for s in shapes]
    numpy = backend_ops == "numpy"
    result = np.asarray(plan([o if numpy else keras.ops.convert_to_tensor(o) for o in operands], numpy=numpy))
    factors = [op.reshape(s) for op, s in zip(operands[1:], ht.factor_shapes(tree, tree.resolve_ranks(3)))]
    np.testing.assert_allclose(result.reshape(7, -1), operands[0].reshape(7, -1) @ ht.to_dense(tree, factors),
                               rtol=1e-4, atol=1e-4)


def test_each_product_of_a_batch_is_charged_per_example():
    """A matmul batched over the batch label alone costs ``PRODUCT_MOVES`` per example (one product each),
    on top of the numbers it moves; one product over the whole batch costs none."""
    sizes = {"b": 1, "i": 6, "j": 5, "k": 4}
    batched = plan_contraction([("b", "i", "j"), ("b", "j", "k")], ("b", "i", "k"), sizes, "b", batch_size=8)
    (step,) = batched.steps
    assert step.matmul is not None and step.per_example_moved == 6 * 5 + 5 * 4 + 6 * 4 + contraction.PRODUCT_MOVES
    single = plan_contraction([("b", "i", "j"), ("j", "k")], ("b", "i", "k"), sizes, "b", batch_size=8)
    (step,) = single.steps
    assert step.matmul is not None and step.per_example_moved == 6 * 5 + 6 * 4 and step.fixed_moved == 5 * 4


def test_split_plans_are_the_same_contraction(rng):
    """The weight-only steps run apart (once per sequence) give the same result as the whole plan; with
    40 calls sharing them, the plan forms the whole matrix first and costs one product per call."""
    tree = DimensionTree([8, 13], [32, 8])
    net = ht.network(tree, tree.resolve_ranks(6))
    inputs, output, sizes, shapes = net.inputs, net.output, net.sizes, net.factor_shapes
    operands = [rng.standard_normal((5, 8, 13))] + [rng.standard_normal(s) for s in shapes]
    results = []
    for reuse in (1, 40):
        plan = plan_contraction(inputs, output, sizes, ht.BATCH, batch_size=1, weight_reuse=reuse)
        weights, rest = plan.split(len(inputs))
        assert all(not s.per_example_flops for s in weights.steps) and all(s.per_example_flops for s in rest.steps)
        prepared = weights.run(operands[1:], numpy=True)
        results += [plan(operands, numpy=True), rest([operands[0], *prepared], numpy=True)]
    assert len(rest.steps) == 1 and len(prepared) == 1 and prepared[0].size == 8 * 13 * 32 * 8
    for result in results[1:]:
        np.testing.assert_allclose(result, results[0], rtol=1e-10, atol=1e-10)
