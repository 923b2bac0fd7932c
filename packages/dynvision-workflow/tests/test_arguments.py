"""Argument strings of file names round-trip and sweep as a Cartesian product."""

import pytest

from dynvision.workflow.arguments import ArgumentError, args_product, decode_args, encode_args


def test_round_trip_keeps_order_and_types() -> None:
    args = {"rctype": "full", "tsteps": 20, "dt": 2.5, "skip": True}
    encoded = encode_args(args)
    assert encoded == ":rctype=full+tsteps=20+dt=2.5+skip=True"
    assert decode_args(encoded) == args


def test_empty_args() -> None:
    assert encode_args({}) == ""
    assert decode_args("") == {}
    assert args_product({}) == [""]


def test_guide_examples_decode() -> None:
    assert decode_args(":tsteps=100+stim=5") == {"tsteps": 100, "stim": 5}


def test_product() -> None:
    product = args_product({"rctype": ["full", "self"], "tsteps": 20, "tau": [5, 10]})
    assert product == [
        ":rctype=full+tsteps=20+tau=5",
        ":rctype=full+tsteps=20+tau=10",
        ":rctype=self+tsteps=20+tau=5",
        ":rctype=self+tsteps=20+tau=10",
    ]


def test_product_of_encoded_string_is_itself() -> None:
    assert args_product(":rctype=full") == [":rctype=full"]


@pytest.mark.parametrize("bad", ["rctype=full", ":rctype", ":rctype=full+", ":a=b_c", ":a=b/c"])
def test_malformed_strings_raise(bad: str) -> None:
    with pytest.raises(ArgumentError, match="malformed argument string"):
        decode_args(bad)


@pytest.mark.parametrize("bad", [{"a_b": 1}, {"a": "x/y"}, {"a": "b+c"}, {"a": {"b": 1}}])
def test_unencodable_args_raise(bad: dict) -> None:
    with pytest.raises(ArgumentError):
        encode_args(bad)
