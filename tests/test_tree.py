import pytest

from htkeras.math.tensorize import (
    default_num_modes,
    factorize,
    is_good,
    suggest_modes,
    tensorize,
)
from htkeras.math.tree import DimensionTree, ranks_to_config


def test_balanced_separate_tree_pairs_each_input_mode_with_its_output_mode():
    tree = DimensionTree([8, 20, 20, 18], [16, 4, 4, 4])
    assert tree.to_config()["structure"] == [[[0, 4], [1, 5]], [[2, 6], [3, 7]]]
    assert tree.leaf_shapes[:4] == ((8, 1), (20, 1), (20, 1), (18, 1))
    assert tree.leaf_shapes[4:] == ((1, 16), (1, 4), (1, 4), (1, 4))
    assert len(tree.nodes) == 15 and tree.root.parent is None and tree.root.id == 14


def test_paired_leaves_and_unequal_separate_counts():
    paired = DimensionTree([2, 3, 4], [5, 6, 7], leaves="paired")
    assert paired.leaf_shapes == ((2, 5), (3, 6), (4, 7))
    uneven = DimensionTree([2, 3, 4], [5], leaves="separate")
    assert sorted(uneven.root.leaves) == [0, 1, 2, 3]


def test_rank_specs_int_list_and_mapping_agree():
    tree = DimensionTree([2, 3], [4, 5])
    as_int = tree.resolve_ranks(3)
    as_list = tree.resolve_ranks([3] * 6)
    as_map = tree.resolve_ranks({0: 3, 2: 3, (0, 2): 3, "1": 3, "3": 3, "1,3": 3})
    assert as_int == as_list == as_map == (3, 3, 3, 3, 3, 3, 1)
    assert ranks_to_config({(0, 2): 3, 1: 2}) == {"0,2": 3, "1": 2}


@pytest.mark.parametrize(
    "kwargs, message",
    [
        ({"input_modes": [2, 3], "output_modes": [4], "leaves": "paired"}, "as many output modes"),
        ({"input_modes": [2, 3], "output_modes": [4, 5], "structure": [[0, 1], [2, 2]]}, "exactly once"),
        ({"input_modes": [2, 3], "output_modes": [4, 5], "structure": [0, 1, 2, 3]}, "binary"),
        ({"input_modes": [2, 0], "output_modes": [4, 5]}, "positive ints"),
        ({"input_modes": [6], "output_modes": [], "leaves": "separate"}, "at least two leaves"),
        ({"input_modes": [2, 3], "output_modes": [4, 5], "leaves": "mixed"}, "leaves"),
    ],
)
def test_bad_trees_name_the_argument(kwargs, message):
    with pytest.raises(ValueError, match=message):
        DimensionTree(**kwargs)


@pytest.mark.parametrize("ranks, message", [(0, "rank|>= 1"), ([2, 2], "one rank per non-root node"), ({0: 2}, "no rank for")])
def test_bad_ranks(ranks, message):
    with pytest.raises(ValueError, match=message):
        DimensionTree([2, 3], [4, 5]).resolve_ranks(ranks)


def test_factorize_is_balanced_and_exact():
    assert factorize(57600, 4) == (15, 15, 16, 16)
    assert factorize(40, 2) == (5, 8)
    assert factorize(64, 3) == (4, 4, 4)
    for n in range(1, 300):
        assert len(factorize(n, 3)) == 3 and factorize(n, 3)[0] * factorize(n, 3)[1] * factorize(n, 3)[2] == n


def test_tensorize_pads_only_when_the_size_factors_badly():
    assert tensorize(104, 2) == (8, 13)  # good as it is
    assert tensorize(106, 2) == (9, 12)  # 2 x 53 is not: pad to 108
    assert is_good((9, 12)) and not is_good((2, 53))
    with pytest.raises(ValueError, match="pad_inputs=True"):
        tensorize(106, 2, pad=False)
    assert default_num_modes(57600) == 4 and default_num_modes(40) == 2
    assert "[5, 8]" in suggest_modes(40)
