"""Property-based fuzzing (hypothesis) of what users type and what zoo folders hold: layer and cell
arguments, and zoo configs. Every input either builds or ends in a ValueError or TypeError with a message,
in bounded memory (sizes up to 4,096 per side: a dense kernel of at most 16 M weights, and no factorized layer
may be larger than its dense kernel)."""

import json
import math
import os
import resource

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

import htkeras
from htkeras.models import build_model
from htkeras.zoo.artifact import validate

FACTORIZED = [kind for kind in htkeras.factory.KINDS if kind != "dense"]
EXAMPLES = int(os.environ.get("HTKERAS_FUZZ_EXAMPLES", 60))  # more for a longer hunt: HTKERAS_FUZZ_EXAMPLES=2000
SETTINGS = settings(max_examples=EXAMPLES, deadline=None, derandomize=True,  # the same examples in every CI run
                    suppress_health_check=list(HealthCheck))


def mostly(good, *bad):
    """``good`` nine times in ten, else one of ``bad``."""
    return st.sampled_from(range(10)).flatmap(lambda k: good if k < 9 else st.one_of(*bad))  # shrinks to good


bad_mode = st.one_of(st.integers(-2, 0), st.floats(-2, 16), st.just(float("nan")), st.booleans(), st.text(max_size=2))
modes = mostly(st.none() | st.lists(st.integers(1, 8), min_size=1, max_size=4),
               st.lists(st.integers(1, 8) | bad_mode, max_size=4), st.integers(-1, 8), st.text(max_size=3))
rank = mostly(st.integers(1, 6), st.integers(7, 10**6), st.integers(-2, 0), st.floats(-1, 50), st.just(float("nan")),
              st.lists(st.integers(-1, 10**4), max_size=12), st.text(max_size=3))
size = mostly(st.integers(1, 256), st.none(), st.integers(-2, 4096), st.floats(-1, 64))

def peak_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def clean_error(error: Exception) -> None:
    assert isinstance(error, (ValueError, TypeError)), f"{type(error).__name__}: {error}"
    assert str(error).strip(), f"{type(error).__name__} without a message"


@pytest.fixture
def memory():
    """The process's peak memory grows by less than 2 GiB during the test (measured around each test alone: a
    worker runs one test at a time)."""
    start = peak_mib()
    yield
    assert peak_mib() - start < 2048, "fuzzing grew the process by more than 2 GiB"


def valid(modes) -> bool:
    return isinstance(modes, list) and bool(modes) and all(type(m) is int and m > 0 for m in modes)


def input_size(data, input_modes) -> int:
    """Mostly a size the modes can take (their product, or less: padded), sometimes any."""
    if valid(input_modes) and data.draw(st.booleans()):
        return data.draw(st.integers(1, math.prod(input_modes)))
    return data.draw(st.integers(1, 4096))


def units_for(data, output_modes, units):
    """Mostly units the output modes agree with (None, or their product), sometimes the fuzzed ones."""
    if valid(output_modes) and data.draw(st.booleans()):
        return data.draw(st.sampled_from([None, math.prod(output_modes)]))
    return units


def test_layer_arguments(memory):
    built = []  # the strategies must reach valid inputs too, not only errors

    @SETTINGS
    @given(kind=st.sampled_from(FACTORIZED), input_modes=modes, output_modes=modes, ranks=rank, units=size,
           data=st.data())
    def run(kind, input_modes, output_modes, ranks, units, data):
        try:
            layer = htkeras.make_linear_map(kind, units_for(data, output_modes, units), ranks=ranks,
                                            input_modes=input_modes, output_modes=output_modes, pad_inputs=True)
            layer.build((None, input_size(data, input_modes)))
        except Exception as error:
            clean_error(error)
        else:
            assert layer.count_params() <= layer.input_dim * layer.output_dim + layer.output_dim
            built.append(kind)

    run()
    print(f"{len(built)} of the fuzzed layers built")
    assert len(built) >= 5, f"only {len(built)} of the fuzzed layers built"


@SETTINGS
@given(kind=st.sampled_from(list(htkeras.factory.KINDS)), cell=st.sampled_from(["lstm", "gru", "rnn"]), units=size,
       ranks=rank, hidden_modes=modes, input_dim=st.integers(1, 512),
       structure=st.sampled_from([None, "input", "both", "joint", "bad"]))
def test_cell_arguments(memory, kind, cell, units, ranks, hidden_modes, input_dim, structure):
    options = {} if kind == "dense" else {"hidden_modes": hidden_modes, **({"structure": structure} if structure else {})}
    try:
        made = htkeras.make_cell(kind, units, cell, ranks=None if kind == "dense" else ranks, **options)
        made.build((None, input_dim))
    except Exception as error:
        clean_error(error)


json_value = st.recursive(st.none() | st.booleans() | st.integers(-5, 50) | st.floats(allow_nan=False) | st.text(max_size=8),
                          lambda children: st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children,
                                                                                            max_size=4), max_leaves=12)
spec = st.fixed_dictionaries(
    {"kind": st.sampled_from(["dense", "ht", "fdht", "tr", "cp", "bogus"]) | st.text(max_size=4), "units": size,
     "input_shape": st.lists(st.integers(-1, 64) | st.none(), max_size=3) | json_value},
    optional={"cell": st.sampled_from(["lstm", "gru", "x"]), "ranks": rank, "num_classes": size, "head": json_value,
              "options": json_value, "frontend": json_value, "num_outputs": size},
)
config = st.fixed_dictionaries(
    {"name": st.sampled_from(["ok-name", "../x", "", "/abs"]) | st.text(max_size=6), "dataset": json_value,
     "model_spec": spec | json_value},
    optional={"labels": json_value, "task": json_value},
)
METRICS = {"name": "m", "data": {}, "split": {}, "parameters": 1, "compression": 1.0, "commit": "c"}


@SETTINGS
@given(config=config | json_value)
def test_zoo_configs(memory, config):
    """A config that passes validation builds its model or fails cleanly; one that does not is refused cleanly."""
    try:
        validate(json.loads(json.dumps(config)), METRICS, "fuzzed")
        build_model(config["model_spec"])
    except Exception as error:
        clean_error(error)
