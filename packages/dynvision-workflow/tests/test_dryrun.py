"""The guide's commands, as dry runs: the planned jobs and every documented output path."""

import sys
from pathlib import Path

import pytest
import yaml

from .dryrun import PATTERNS, kind_of, snakemake

pytestmark = pytest.mark.integration


def test_default_target_runs_every_experiment(tmp_path: Path) -> None:
    plan = snakemake(tmp_path)
    assert plan.returncode == 0, plan.stderr
    experiments = yaml.safe_load((Path(__file__).parents[3] / "configs" / "config_experiments.yaml").read_text())
    done = sorted(path for path in plan.outputs if kind_of(path) == "done")
    assert done == sorted(f"reports/experiment_{name}.done" for name in experiments["experiment_config"])
    kinds = {kind_of(path) for path in plan.outputs}
    assert set(PATTERNS) <= kinds
    for rule in ("get_data", "link", "init_model", "train_model", "test_model", "process_experiment", "plot"):
        assert rule in plan.rules
    # nothing is written by a dry run except Snakemake's own folder
    assert sorted(p.name for p in tmp_path.iterdir()) == [".snakemake"]


def test_done_file_and_config_experiment_build_the_same(tmp_path: Path) -> None:
    by_file = snakemake(tmp_path, "reports/experiment_contrast.done")
    by_config = snakemake(tmp_path, "--config", "experiment=contrast")
    assert by_file.returncode == 0 and by_config.returncode == 0, by_file.stderr + by_config.stderr
    without_target = [path for path in by_config.outputs if path]
    assert sorted(by_file.outputs) == sorted(without_target)
    tests = [path for path in by_file.outputs if kind_of(path) == "outputs"]
    assert len(tests) == 7 and all("StimulusContrast:contrast=" in path for path in tests)
    assert by_file.rules.count("train_model") == 1


def test_guide_parameter_sweep(tmp_path: Path) -> None:
    plan = snakemake(
        tmp_path,
        "all_experiments",
        "--config",
        "experiment=contrast",
        "model_args={rctype:[full,self,depthpointwise,pointdepthwise]}",
    )
    assert plan.returncode == 0, plan.stderr
    trained = sorted(path for path in plan.outputs_of("train_model") if path.endswith("_trained.pt"))
    assert trained == sorted(
        f"models/DyRCNNx4/DyRCNNx4:lossrt=10+rctype={rctype}+tsteps=8_0001_embedded_trained.pt"
        for rctype in ("full", "self", "depthpointwise", "pointdepthwise")
    )
    assert len([path for path in plan.outputs if kind_of(path) == "responses"]) == 4 * 7  # 4 networks x 7 contrasts
    comparison = plan.outputs_of("compare_experiment")
    assert len(comparison) == 6 and all(kind_of(path) == "comparison" for path in comparison)
    assert comparison[0].startswith("reports/figures/contrast/comparison_rctype-")


def test_guide_single_experiment_command(tmp_path: Path) -> None:
    plan = snakemake(tmp_path, "experiment", "--config", "model_name=DyRCNNx4", "model_args={rctype:full}", "seed=0002")
    assert plan.returncode == 0, plan.stderr
    assert "models/DyRCNNx4/DyRCNNx4:lossrt=10+rctype=full+tsteps=8_0002_embedded_init.pt" in plan.outputs
    assert "reports/experiment_contrast.done" in plan.outputs


def test_guide_standard_models_on_a_group(tmp_path: Path) -> None:
    # Snakemake 9 reads every word after --config as a config entry, so the target comes first.
    plan = snakemake(
        tmp_path,
        "test_standard_models",
        "--config",
        "model_name=[AlexNet,CorNetRT,ResNet18,DyRCNNx4]",
        "data_group=shapes",
        "experiment=contrast",
    )
    assert plan.returncode == 0, plan.stderr
    outputs = [path for path in plan.outputs if kind_of(path) == "outputs"]
    assert len(outputs) == 4 * 7  # four models x seven contrasts
    for name in ("AlexNet", "CorNetRT", "ResNet18", "DyRCNNx4"):
        assert (
            f"reports/{name}/{name}_0001_embedded_trained_StimulusContrast:contrast=0.05+introms=4+stimms=16+trialms=70_shapes_test_outputs.csv"
            in outputs
        )
    assert "data/interim/embedded/test_shapes/folder.link" in plan.outputs_of("link")


def test_explicit_guide_paths(tmp_path: Path) -> None:
    target = (
        "reports/DyRCNNx4/DyRCNNx4:rctype=full+tsteps=20_0001_embedded_trained_StimulusDuration:tsteps=100+stim=5"
        "_all_test_outputs.csv"
    )
    plan = snakemake(tmp_path, target, "plot_experiments_on_models", "--config", "experiment=duration")
    assert plan.returncode == 0, plan.stderr
    assert target in plan.outputs
    figures = [path for path in plan.outputs_of("plot") if path.endswith(".png")]
    assert all(kind_of(path) == "figure" for path in figures) and len(figures) == 3  # responses, performance, summary
    assert sorted(plan.outputs_of("plot")) == sorted([*figures, *(path[:-4] + ".pdf" for path in figures)])


def test_long_arguments_are_hashed(tmp_path: Path) -> None:
    pairs = [
        ("rctype", "full"),
        ("tsteps", 10),
        ("dt", 2),
        ("tau", 5),
        ("tff", 0),
        ("trc", 6),
        ("tsk", 0),
        ("tfb", 30),
        ("lossrt", 4),
        ("idle", 0),
    ]
    long_args = "{" + ",".join(f"{key}:{value}" for key, value in pairs) + "}"
    plan = snakemake(tmp_path, "--config", "experiment=contrast", f"model_args={long_args}")
    assert plan.returncode == 0, plan.stderr
    models = [path for path in plan.outputs_of("init_model") if path.endswith(".pt")]
    assert len(models) == 1 and "~" in models[0]
    for path in plan.outputs:
        assert all(len(part.encode()) <= 255 for part in Path(path).parts)
    token = Path(models[0]).name.split("_")[0][len("DyRCNNx4") :]
    assert not (tmp_path / "models").exists()  # a dry run writes nothing, not even the index
    # the job that makes the first file with the token writes its index entry
    assert plan.outputs_of("hashed_args") == [f"models/hashed_args/{token}.yaml"]
    config = ["--config", "experiment=contrast", f"model_args={long_args}"]
    run = snakemake(tmp_path, *config, "--until", "hashed_args", "-j1", dry=False)
    assert run.returncode == 0, run.stderr
    index = yaml.safe_load((tmp_path / "models" / "hashed_args" / f"{token}.yaml").read_text())
    assert set(index[token][1:].split("+")) >= {f"{key}={value}" for key, value in pairs}


def test_dag_and_forcerun(tmp_path: Path) -> None:
    dag = snakemake(tmp_path, "all_experiments", "--dag", "--config", "experiment=contrast")  # Snakemake 9: --dag [dot]
    assert dag.returncode == 0, dag.stderr
    assert "digraph" in dag.stdout and "train_model" in dag.stdout
    forced = snakemake(tmp_path, "all_experiments", "--forcerun", "test_model", "--config", "experiment=contrast")
    assert forced.returncode == 0, forced.stderr


@pytest.mark.parametrize(
    ("assignment", "message"),
    [
        ("model_name=NoNet", "unknown model 'NoNet'; valid choices: "),
        ("model_args={rctype:weird}", "rctype='weird' is unknown; valid: none, "),
        ("experiment=nope", "unknown experiment 'nope'; valid choices: contrast"),
        ("data_name=nodata", "unknown dataset 'nodata'; valid choices: "),
        ("data_group=nogroup", "unknown data_group of embedded 'nogroup'; valid choices: all"),
        ("model_args=rctype=full", "malformed argument string"),
        ("model_args={tau:-1}", "sweep point {lossrt: 10, rctype: full, tau: -1, tsteps: 8}: tau=-1 must be > 0 ms"),
        ("model_args={tsteps:[8,2.5]}", "tsteps=2.5 must be an integer"),
        ("learning_rte=0.1", "unknown config key 'learning_rte' (did you mean learning_rate?)"),
        ("models_dir=../../elsewhere", "config key models_dir: '../../elsewhere' lies outside the project folder "),
        ("reports_dir=/tmp", "or set outputs_outside_project=true"),
    ],
)
def test_bad_config_fails_before_any_job(tmp_path: Path, assignment: str, message: str) -> None:
    plan = snakemake(tmp_path, "--config", assignment, dry=False)
    assert plan.returncode != 0
    assert message in plan.stderr
    assert next(line for line in plan.stderr.splitlines() if "invalid configuration" in line).count(message) == 1
    assert not plan.rules
    assert not any((tmp_path / name).exists() for name in ("data", "models", "reports", "logs"))


def test_outputs_outside_the_project_when_allowed(tmp_path: Path) -> None:
    outside = tmp_path.parent / f"{tmp_path.name}-models"
    plan = snakemake(tmp_path, "--config", f"models_dir={outside}", "outputs_outside_project=true")
    assert plan.returncode == 0, plan.stderr
    assert any(output.startswith(str(outside)) for output in plan.outputs)


@pytest.mark.parametrize("experiment", ["interval"])
def test_make_dryrun(experiment: str) -> None:
    """`make dryrun EXP=...` plans the experiment from the repository root."""
    import subprocess

    from .dryrun import REPO

    result = subprocess.run(["make", "-s", "dryrun", f"EXP={experiment}"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert f"reports/experiment_{experiment}.done" in result.stdout


def test_make_dryrun_unknown_experiment() -> None:
    import subprocess

    from .dryrun import REPO

    result = subprocess.run(["make", "-s", "dryrun", "EXP=bogus"], cwd=REPO, capture_output=True, text=True)
    assert result.returncode != 0
    names = sorted(yaml.safe_load((REPO / "configs" / "config_experiments.yaml").read_text())["experiment_config"])
    assert f"unknown experiment 'bogus'; valid choices: {', '.join(names)}" in result.stdout + result.stderr


def test_train_model_command_carries_devices_strategy_and_launcher(tmp_path: Path) -> None:
    """Locally the launcher is empty; a cluster profile's resource ``mpi`` (srun) goes in front of the command."""
    local = snakemake(tmp_path, "-p", "reports/experiment_contrast.done")
    assert local.returncode == 0, local.stderr
    (command,) = [line for line in (local.stdout + local.stderr).splitlines() if " train-model " in line]
    assert command.split()[2] == str(Path(sys.executable).parent / "dynvision-workflow")
    assert "--devices auto --strategy auto " in command
    stem = "DyRCNNx4:lossrt=10+rctype=full+tsteps=8_0001_embedded"
    assert f"--checkpoint-dir models/DyRCNNx4/checkpoints/{stem} --log-dir logs/lightning/{stem} " in command
    launcher = "train_model:mpi='srun --nodes=1 --ntasks-per-node=2'"
    ddp = snakemake(
        tmp_path, "-p", "reports/experiment_contrast.done", "--set-resources", launcher,
        "--config", "devices=2", "strategy=ddp",
    )  # fmt: skip
    assert ddp.returncode == 0, ddp.stderr
    (command,) = [line for line in (ddp.stdout + ddp.stderr).splitlines() if " train-model " in line]
    assert command.startswith("Shell command: srun --nodes=1 --ntasks-per-node=2 ")
    assert "--devices 2 --strategy ddp " in command


def test_a_launcher_resource_cannot_put_another_command_into_the_shell(tmp_path: Path) -> None:
    injected = snakemake(tmp_path, "-p", "reports/experiment_contrast.done", "--set-resources",
                         "train_model:mpi='touch pwned;'")  # fmt: skip
    assert injected.returncode != 0
    message = "resource mpi='touch pwned;' must start with a launcher; valid choices: srun, mpirun, mpiexec, torchrun"
    assert message in injected.stdout + injected.stderr
    assert not (tmp_path / "pwned").exists()


@pytest.mark.parametrize(("assignment", "message"), [("devices=0", "devices"), ("strategy=dd;p", "strategy")])
def test_bad_devices_or_strategy_fail_before_any_job(tmp_path: Path, assignment: str, message: str) -> None:
    plan = snakemake(tmp_path, "--config", assignment, dry=False)
    assert plan.returncode != 0
    assert f"config key {message}" in plan.stderr, plan.stderr
    assert not plan.rules
