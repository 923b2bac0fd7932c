"""Long argument strings become hashed tokens; jobs write one index entry per token."""

from pathlib import Path

import pytest

from dynvision.workflow.arguments import encode_args
from dynvision.workflow.names import MAX_ARGS_CHARS, ArgsIndex, NameLengthError, check_name_length, token_of


def test_short_strings_stay(tmp_path: Path) -> None:
    index = ArgsIndex(tmp_path / "hashed_args")
    assert index.shorten(":rctype=full") == ":rctype=full"
    assert index.expand(":rctype=full") == ":rctype=full"
    assert not (tmp_path / "hashed_args").exists()


def test_long_string_is_hashed_and_maps_back_without_writing(tmp_path: Path) -> None:
    long = encode_args({f"key{i}": "value" * 20 for i in range(10)})
    assert len(long) > MAX_ARGS_CHARS
    index = ArgsIndex(tmp_path / "hashed_args")
    token = index.shorten(long)
    assert token.startswith("~") and len(token) == 13 and token == token_of(long)
    assert index.shorten(long) == token
    assert index.expand(token) == long
    assert list(tmp_path.iterdir()) == []  # knowing a token writes nothing
    # the shortened file name can be created, the original could not
    name = f"DyRCNNx4{token}_0001_embedded_trained.pt"
    (tmp_path / check_name_length(name)).write_text("")
    with pytest.raises(OSError):
        (tmp_path / f"DyRCNNx4{long * 3}.pt").write_text("")


def test_a_later_run_reads_the_entry_a_job_wrote(tmp_path: Path) -> None:
    long = ":" + "+".join(f"k{i}=v" for i in range(30))
    token = token_of(long)
    (tmp_path / "hashed_args").mkdir()
    (tmp_path / "hashed_args" / f"{token}.yaml").write_text(f"'{token}': '{long}'\n")
    assert ArgsIndex(tmp_path / "hashed_args").expand(token) == long


def test_two_strings_sharing_a_token_is_an_error(tmp_path: Path) -> None:
    index = ArgsIndex(tmp_path / "hashed_args")
    long = ":" + "+".join(f"k{i}=v" for i in range(30))
    token = index.shorten(long)
    index.tokens[token] = ":someone=else" + "+x=1" * 20  # pretend another string of the sweep took the token
    with pytest.raises(NameLengthError, match="share the token"):
        index.shorten(long)


def test_unknown_token(tmp_path: Path) -> None:
    with pytest.raises(KeyError, match="unknown hashed argument token"):
        ArgsIndex(tmp_path / "hashed_args").expand("~0123456789ab")


def test_name_length_error_is_clear() -> None:
    with pytest.raises(NameLengthError, match="more than the 255"):
        check_name_length("x" * 300)
