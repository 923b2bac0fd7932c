"""Changing what a result is made of reruns what depends on it: a redefined data group is linked again."""

from __future__ import annotations

from pathlib import Path

import pytest
import yaml

from .dryrun import snakemake

LINK = "data/interim/embedded/test_shapes/folder.link"


@pytest.mark.integration
def test_a_redefined_data_group_is_linked_again(tmp_path: Path, config_dir: Path) -> None:
    env = {"DYNVISION_CONFIG_DIR": str(config_dir)}
    built = snakemake(tmp_path, "--cores", "1", LINK, dry=False, env=env)
    assert built.returncode == 0, built.stderr[-2000:]
    assert snakemake(tmp_path, LINK, env=env).rules == []  # up to date

    path = config_dir / "config_data.yaml"
    data = yaml.safe_load(path.read_text())
    data["data_groups"]["embedded"]["shapes"] = data["data_groups"]["embedded"]["shapes"][:1]
    path.write_text(yaml.safe_dump(data, sort_keys=False))
    plan = snakemake(tmp_path, LINK, env=env)
    assert plan.rules == ["link"], plan.stdout[-2000:]
    assert "Params have changed" in plan.stdout or "params" in plan.stdout.lower()
