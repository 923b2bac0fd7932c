"""Argument strings of file names round-trip and sweep as a Cartesian product."""

import pytest

from dynvision.workflow.arguments import (
    ArgumentError,
    args_product,
    decode_args,
    encode_args,
    model_args_canonical,
)


def test_round_trip_is_canonical_and_keeps_types() -> None:
    args = {"rctype": "full", "tsteps": 20, "dt": 2.5, "skip": True}
    encoded = encode_args(args)
    assert encoded == ":dt=2.5+rctype=full+skip=true+tsteps=20"
    assert decode_args(encoded) == args
    assert encode_args(dict(reversed(args.items()))) == encoded  # one combination, one name


def test_one_model_one_name() -> None:
    """Aliases, long names, key order and 10 vs 10.0 all give the same file name; none stays a recurrence type."""
    spellings = [
        {"tau": 10, "rctype": "none"},
        {"rctype": "none", "tau": 10.0},
        {"recurrence_type": "none", "tau": 10.0},
    ]
    names = {encode_args(model_args_canonical(args)) for args in spellings}
    assert names == {":rctype=none+tau=10"}
    assert decode_args(":rctype=none+tau=10") == {"rctype": "none", "tau": 10}
    assert args_product({"tau": [10, 10.0]}, model_args_canonical) == [":tau=10"]
    with pytest.raises(ArgumentError, match=r"tsteps=2\.5 must be an integer"):
        model_args_canonical({"tsteps": 2.5})


def test_values_mean_the_same_everywhere() -> None:
    from dynvision.models.grammar import parse_args
    from dynvision.workflow.values import parse_value

    text = ":a=none+b=null+c=true+d=0001+e=20+f=0.5+g=36,64"
    expected = {"a": "none", "b": None, "c": True, "d": "0001", "e": 20, "f": 0.5, "g": (36, 64)}
    assert decode_args(text) == parse_args(text) == expected
    assert parse_value("{a:none,b:null,c:true,d:0001,e:20,f:0.5}") == {k: v for k, v in expected.items() if k != "g"}


def test_empty_args() -> None:
    assert encode_args({}) == ""
    assert decode_args("") == {}
    assert args_product({}) == [""]


def test_guide_examples_decode() -> None:
    assert decode_args(":tsteps=100+stim=5") == {"tsteps": 100, "stim": 5}


def test_product() -> None:
    product = args_product({"rctype": ["full", "self"], "tsteps": 20, "tau": [5, 10]})
    assert product == [
        ":rctype=full+tau=5+tsteps=20",
        ":rctype=full+tau=10+tsteps=20",
        ":rctype=self+tau=5+tsteps=20",
        ":rctype=self+tau=10+tsteps=20",
    ]


def test_product_of_encoded_string_is_its_canonical_spelling() -> None:
    assert args_product(":rctype=full") == [":rctype=full"]
    assert args_product(":tsteps=20+rctype=full") == [":rctype=full+tsteps=20"]


@pytest.mark.parametrize("bad", ["rctype=full", ":rctype", ":rctype=full+", ":a=b_c", ":a=b/c"])
def test_malformed_strings_raise(bad: str) -> None:
    with pytest.raises(ArgumentError, match="malformed argument string"):
        decode_args(bad)


@pytest.mark.parametrize("bad", [{"a_b": 1}, {"a": "x/y"}, {"a": "b+c"}, {"a": {"b": 1}}])
def test_unencodable_args_raise(bad: dict) -> None:
    with pytest.raises(ArgumentError):
        encode_args(bad)
