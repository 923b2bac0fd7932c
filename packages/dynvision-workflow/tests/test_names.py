"""Long argument strings become hashed tokens with a sidecar that maps them back."""

from pathlib import Path

import pytest

from dynvision.workflow.arguments import encode_args
from dynvision.workflow.names import MAX_ARGS_CHARS, ArgsIndex, NameLengthError, check_name_length


def test_short_strings_stay(tmp_path: Path) -> None:
    index = ArgsIndex(tmp_path / "hashed_args.yaml")
    assert index.shorten(":rctype=full") == ":rctype=full"
    index.save()
    assert not (tmp_path / "hashed_args.yaml").exists()


def test_long_string_is_hashed_and_maps_back(tmp_path: Path) -> None:
    long = encode_args({f"key{i}": "value" * 20 for i in range(10)})
    assert len(long) > MAX_ARGS_CHARS
    index = ArgsIndex(tmp_path / "hashed_args.yaml")
    token = index.shorten(long)
    assert token.startswith("~") and len(token) == 13
    assert index.shorten(long) == token
    index.save()
    reloaded = ArgsIndex(tmp_path / "hashed_args.yaml")
    assert reloaded.expand(token) == long
    assert reloaded.expand(":rctype=full") == ":rctype=full"
    # the shortened file name can be created, the original could not
    name = f"DyRCNNx4{token}_0001_embedded_trained.pt"
    (tmp_path / check_name_length(name)).write_text("")
    with pytest.raises(OSError):
        (tmp_path / f"DyRCNNx4{long * 3}.pt").write_text("")


def test_collision_gets_longer_token(tmp_path: Path) -> None:
    index = ArgsIndex(tmp_path / "hashed_args.yaml")
    long = ":" + "+".join(f"k{i}=v" for i in range(30))
    token = index.shorten(long)
    index.tokens[token] = ":someone=else" + "+x=1" * 20  # pretend another string took the token
    other = index.shorten(long)
    assert other != token and other.startswith(token)
    assert index.expand(other) == long


def test_unknown_token(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="unknown hashed argument token"):
        ArgsIndex(tmp_path / "hashed_args.yaml").expand("~0123456789ab")


def test_name_length_error_is_clear() -> None:
    with pytest.raises(NameLengthError, match="more than the 255"):
        check_name_length("x" * 300)
