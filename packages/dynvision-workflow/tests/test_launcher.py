"""The launcher prefix of train_model: a known launcher with quoted words, or one line naming what is wrong."""

import pytest

from dynvision.workflow.launcher import launcher_prefix


@pytest.mark.parametrize(
    ("resource", "prefix"),
    [("", ""), (None, ""), ("srun --nodes=1 --ntasks-per-node=2", "srun --nodes=1 --ntasks-per-node=2"),
     ("  mpirun   -n 4 ", "mpirun -n 4")],
)  # fmt: skip
def test_a_known_launcher_is_kept_word_for_word(resource, prefix):
    assert launcher_prefix(resource) == prefix


@pytest.mark.parametrize(
    ("resource", "message"),
    [
        ("touch /tmp/x;", r"must start with a launcher; valid choices: srun, mpirun, mpiexec, torchrun$"),
        ("srun --x=1; rm -rf .", r"'--x=1;' is not a launcher option"),
        ("srun $(id)", r"'\$\(id\)' is not a launcher option"),
        ("srun 'unclosed", r"is not a command line \(No closing quotation\)$"),
    ],
)
def test_anything_else_is_refused_with_the_resource_named(resource, message):
    with pytest.raises(ValueError, match=message):
        launcher_prefix(resource)
