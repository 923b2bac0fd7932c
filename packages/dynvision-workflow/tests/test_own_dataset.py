"""A dataset of one's own, added in config_data.yaml, runs the contrast experiment end to end."""

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
import yaml
from PIL import Image

from dynvision.workflow.provenance import REFERENCE_TRAINING, training_tag

from .dryrun import REPO, snakemake
from .test_experiments import TINY


def image_folder(root: Path) -> Path:
    """train/ and test/ folders of three classes of 20 px images: red, green or blue squares on grey noise."""
    rng = np.random.default_rng(0)
    for subset, count in (("train", 16), ("test", 4)):
        for label, name in enumerate(("red", "green", "blue")):
            (root / subset / name).mkdir(parents=True)
            for index in range(count):
                pixels = rng.integers(60, 120, (20, 20, 3), dtype=np.uint8)
                pixels[5:15, 5:15, label] = 240
                Image.fromarray(pixels).save(root / subset / name / f"{index:02d}.png")
    return root


@pytest.mark.slow
@pytest.mark.integration
def test_a_configured_image_folder_runs_the_contrast_experiment_with_its_own_statistics(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    shutil.copytree(REPO / "configs", configs)
    data_config = yaml.safe_load((configs / "config_data.yaml").read_text())
    folder = image_folder(tmp_path / "squares")
    data_config["datasets"] = {"squares": {"path": str(folder), "resolution": 16, "channels": 3}}
    (configs / "config_data.yaml").write_text(yaml.safe_dump(data_config))
    work = tmp_path / "work"
    work.mkdir()
    tiny = [setting for setting in TINY if not setting.startswith("data_group=")]
    run = snakemake(work, "--cores", "2", "--config", "experiment=contrast", "data_name=squares", *tiny, dry=False,
                    env={"DYNVISION_CONFIG_DIR": str(configs)})  # fmt: skip
    assert run.returncode == 0, run.stderr[-3000:]
    assert (work / "reports" / "experiment_contrast.done").exists()
    statistics = json.loads((work / "data" / "raw" / "squares" / "normalisation.json").read_text())
    assert statistics["images"] == 48 and statistics["source"] == str(folder.resolve())
    assert all(0.3 < mean < 0.5 for mean in statistics["mean"])  # the folder's own, not ImageNet's (0.485, ...)
    [figures] = (work / "reports" / "figures" / "contrast").iterdir()
    table = pd.read_csv(figures / "data.csv")
    assert set(table["first_label_index"]) == {0, 1, 2} and set(table["n_classes"]) == {3}
    assert table["contrast"].nunique() == 7
    trained = "trained" + training_tag({**REFERENCE_TRAINING, "epochs": 1, "train_images": 32, "batch_size": 16})
    sidecar = yaml.safe_load(next((work / "models").rglob(f"*_{trained}.config.yaml")).read_text())
    assert sidecar["data_name"] == "squares" and sidecar["chance"] == 0.3333


def test_a_bad_dataset_entry_is_refused_before_any_job(tmp_path: Path) -> None:
    configs = tmp_path / "configs"
    shutil.copytree(REPO / "configs", configs)
    with open(configs / "config_data.yaml", "a") as file:
        file.write("datasets:\n  squares: {path: /nowhere, resolution: 16, channels: 3}\n")
    plan = snakemake(tmp_path, "--config", "data_name=squares", dry=False, env={"DYNVISION_CONFIG_DIR": str(configs)})
    assert plan.returncode != 0
    assert "invalid configuration: config_data.yaml: datasets.squares: /nowhere/train does not exist" in plan.stderr
    assert not plan.rules and not (tmp_path / "data").exists()
