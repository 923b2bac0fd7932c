"""Bad arguments to the packages' commands: one line naming the value, exit code, no traceback, no output."""

from __future__ import annotations

from pathlib import Path

import pytest

from .catalogue import assert_refused, files_in, run, testing_command, training_command

COMMANDS = [
    (["dynvision-models", "init", "DyRCNNx5", "-o", "m.pt"], ("DyRCNNx5", "valid")),
    (["dynvision-models", "init", "DyRCNNx4", "-o", "m.pt", "-a", "tsteps=2.5"], ("tsteps=2.5",)),
    (["dynvision-models", "init", "DyRCNNx4", "-o", "m.pt", "-a", "rctype=fulll"], ("fulll",)),
    (["dynvision-models", "init", "DyRCNNx4", "-o", "m.pt", "-a", "tsteps"], ("tsteps",)),
    (["dynvision-models", "init", "DyRCNNx4", "-o", "m.pt", "-a", "tau=nan"], ("tau", "nan")),
    (["dynvision-models", "init", "DyRCNNx4", "-o", "m.pt", "--seed", "abc"], ("--seed",)),
    (["dynvision-models", "info", "nofile.pt"], ("nofile.pt",)),
    (["dynvision-models", "info", "DyRCNNx4", "--size", "0"], ("--size", "greater than or equal to 1")),
    (["dynvision-models", "info", "DyRCNNx4", "--size", "2"], ("--size 2", "too small")),
    (["dynvision-data", "get", "cifar1000", "--quiet"], ("cifar1000",)),
    (["dynvision-data", "get", "embedded", "--retries", "-1"], ("--retries", "greater than or equal to 0")),
    (["dynvision-data", "link", "embedded", "--subset", "test_dsik"], ("dsik",)),
    (["dynvision-data", "link", "embedded", "--subset", "everything"], ("everything",)),
    (["dynvision-data", "preview", "StimulusContrat", "-o", "s.png"], ("StimulusContrat",)),
    (["dynvision-data", "preview", "StimulusContrast", "-o", "s.png", "--args", "contrast=abc"], ("contrast", "abc")),
    (["dynvision-data", "convert", "embedded", "--ratio", "1.5"], ("1.5",)),
    (["dynvision-viz", "plot", "nonplot", "-i", "x.csv", "-o", "y.png"], ("nonplot",)),
    (["dynvision-viz", "plot", "responses", "-i", "missing.csv", "-o", "y.png"], ("missing.csv",)),
    (["dynvision-viz", "process", "-i", "missing.csv", "-o", "t.csv"], ("missing.csv",)),
    (["dynvision-viz", "compare", "-i", "missing.csv", "--parameter", "contrast", "-o", "cmp"], ("missing.csv",)),
    (testing_command(**{"--data-loader": "StimulusContrat"}), ("StimulusContrat",)),
    (testing_command(**{"--switch-off": "recurence"}), ("recurence",)),
    (testing_command(**{"--data-args": ":contrastt=1"}), ("contrastt",)),
    (testing_command(**{"--record": "everything"}), ("everything",)),
    (testing_command(**{"--data-group": "dsik"}), ("dsik",)),
    (training_command(**{"--learning-rate": "inf"}), ("inf",)),
    (training_command(**{"--strategy": "ddpx"}), ("ddpx",)),
    (training_command(**{"--precision": "15-mixed"}), ("15-mixed",)),
    (training_command(**{"--augmentation": "extreme"}), ("extreme",)),
    (training_command(**{"--ratio": "nan"}), ("--ratio",)),
    (training_command(**{"--energy-weight": "inf"}), ("--energy-weight", "inf")),
    (["dynvision-workflow", "run", "-n", "--config", "epochs"], ("epochs", "name=value")),
    (["dynvision-workflow", "check-config", "epochs=2.0"], ("epochs", "2.0")),
]


@pytest.mark.integration
@pytest.mark.parametrize(("command", "fragments"), COMMANDS, ids=[" ".join(c[1:4]) for c, _ in COMMANDS])
def test_bad_command_argument_is_refused(workspace: Path, command: list[str], fragments: tuple) -> None:
    before = files_in(workspace)
    result = run(command, workspace)
    assert_refused(result, fragments, before, workspace)
