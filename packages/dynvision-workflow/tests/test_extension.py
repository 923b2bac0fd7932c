"""The documented extension: a new experiment with a data loader from an entry point, and a custom rule."""

import shutil
from pathlib import Path

import pytest
import yaml

from dynvision.workflow.provenance import REFERENCE_TRAINING, training_tag

from .dryrun import REPO, snakemake

EXAMPLE = REPO / "packages" / "dynvision-workflow" / "examples" / "extension"


def install_example_loader(site: Path) -> None:
    """What `pip install examples/extension` does, without pip: the module and its entry point on the path."""
    shutil.copy(EXAMPLE / "flicker_stimulus.py", site / "flicker_stimulus.py")
    info = site / "flicker_stimulus-0.1.0.dist-info"
    info.mkdir()
    (info / "METADATA").write_text("Metadata-Version: 2.1\nName: flicker-stimulus\nVersion: 0.1.0\n")
    (info / "entry_points.txt").write_text("[dynvision.stimuli]\nStimulusFlicker = flicker_stimulus:StimulusFlicker\n")


@pytest.mark.slow
@pytest.mark.integration
def test_extension_example_runs(tmp_path: Path, data_root: Path) -> None:
    configs = tmp_path / "configs"
    shutil.copytree(REPO / "configs", configs)
    experiments = yaml.safe_load((configs / "config_experiments.yaml").read_text())
    experiments["experiment_config"].update(
        yaml.safe_load((EXAMPLE / "config_experiments.yaml").read_text())["experiment_config"]
    )
    (configs / "config_experiments.yaml").write_text(yaml.safe_dump(experiments, sort_keys=False))
    site = tmp_path / "site"
    site.mkdir()
    install_example_loader(site)

    plan = snakemake(
        tmp_path,
        "--snakefile", str(EXAMPLE / "Snakefile"), "--cores", "2",
        "--config", "experiment=flicker", "model_name=DyRCNNx2", "model_args={rctype:self,tsteps:3,lossrt:0}",
        "epochs=1", "train_images=32", "test_images=16", "batch_size=16", "test_batch_size=16", "data_group=one",
        f"data_root={data_root}", "plots=[responses]",
        dry=False,
        env={"DYNVISION_CONFIG_DIR": str(configs), "PYTHONPATH": str(site)},
    )  # fmt: skip
    assert plan.returncode == 0, plan.stderr[-3000:]
    trained = "trained" + training_tag({**REFERENCE_TRAINING, "epochs": 1, "train_images": 32, "batch_size": 16})
    stem = f"DyRCNNx2:lossrt=0+rctype=self+tsteps=3_0001_embedded_{trained}_StimulusFlicker:period={{}}+tsteps=8_one"
    for period in (1, 2):
        table = tmp_path / "reports" / "analysis" / "DyRCNNx2" / f"peak_response_{stem.format(period)}.csv"
        rows = table.read_text().splitlines()
        assert rows[0] == "area,peak_time_ms,peak_response" and len(rows) == 3  # two areas of DyRCNNx2
        assert (tmp_path / "reports" / "DyRCNNx2" / f"{stem.format(period)}_test_outputs.config.yaml").exists()
    network = f"DyRCNNx2:lossrt=0+rctype=self+tsteps=3_0001_embedded_{trained}"
    figure = f"reports/figures/flicker/flicker_{network}_one/responses.png"
    assert (tmp_path / figure).stat().st_size > 0
    done = (tmp_path / "reports" / "experiment_flicker.done").read_text()
    assert figure in done
    used = yaml.safe_load((tmp_path / "reports" / "experiment_flicker.config.yaml").read_text())
    assert used["model_name"] == "DyRCNNx2" and used["seed"] == "0001"
