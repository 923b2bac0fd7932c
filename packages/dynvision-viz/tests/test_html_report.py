"""The results-first report: a finished experiment's figures and measures (with the known answers of synthetic
networks) come first, the networks' figures with captions and configuration next, the rule graph last; and a real
headless browser shows results on the first screen."""

from __future__ import annotations

import re
import shutil
import subprocess
from pathlib import Path

import matplotlib
import numpy as np
import pytest
import yaml
from PIL import Image
from typer.testing import CliRunner

from dynvision.viz.cli import app

from .test_compare import CONTRASTS, network_table

matplotlib.use("Agg")
runner = CliRunner()
FOLDER = "contrast_DyRCNNx2:rctype={}+tsteps=8_0001_embedded_trained_all"


def png(path: Path, colour: tuple[int, int, int]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.fromarray(np.full((240, 320, 3), colour, dtype=np.uint8)).save(path)


@pytest.fixture(scope="module")
def reports(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A reports folder with a finished contrast experiment of two networks (full and self recurrence)."""
    reports = tmp_path_factory.mktemp("reports")
    record = {
        "experiment_config": {
            "contrast": {
                "parameter": "contrast",
                "data_loader": "StimulusContrast",
                "status": "trained",
                "data_args": {"contrast": CONTRASTS},
            }
        }
    }
    (reports / "experiment_contrast.config.yaml").write_text(yaml.safe_dump(record))
    (reports / "experiment_contrast.done").write_text("")
    for rctype, colour in (("full", (200, 30, 30)), ("self", (30, 30, 200))):
        folder = reports / "figures" / "contrast" / FOLDER.format(rctype)
        folder.mkdir(parents=True)
        network_table(rctype, "0001").to_csv(folder / "data.csv", index=False)
        for plot in ("performance", "summary", "training", "responses"):
            png(folder / f"{plot}.png", colour)
    png(reports / "figures" / "contrast" / "comparison_rctype-0123abcd" / "comparison.png", (30, 160, 30))
    (reports / "rulegraph.svg").write_text("<?xml version='1.0'?>\n<svg xmlns='http://www.w3.org/2000/svg'>"
                                           "<text x='5' y='20'>train_model</text></svg>\n")  # fmt: skip
    return reports


@pytest.fixture(scope="module")
def page(reports: Path) -> Path:
    output = reports / "report.html"
    command = ["report", "--reports", str(reports), "--rulegraph", str(reports / "rulegraph.svg"), "-o", str(output)]
    result = runner.invoke(app, [*command, "--workflow-report", "workflow_report.html", "--bootstrap", "20"])
    assert result.exit_code == 0, result.output
    return output


def test_results_come_first_then_networks_then_the_rule_graph(page: Path) -> None:
    text = page.read_text()
    order = [text.index(mark) for mark in ("id='results'", "id='contrast'", "id='networks'", "id='workflow'")]
    assert order == sorted(order)
    results = text[order[1] : order[2]]
    assert results.count("data:image/png;base64,") == 1  # the sweep's comparison (each network's come later)
    assert results.index("Accuracy at the end of the stimulus") < results.index("data:image/png")
    assert text.index("train_model") > order[3] and "workflow_report.html" in text
    networks = text[order[2] : order[3]]
    assert networks.count("data:image/png;base64,") == 2 * 4
    assert "<b>Experiment summary.</b>" in networks and "Configuration of the run" in networks


def test_the_accuracy_table_holds_the_known_answer_with_its_interval(page: Path) -> None:
    """The synthetic networks guess right on 90 % of the images once their criterion time has passed."""
    text = page.read_text()
    table = text[text.index("Accuracy at the end of the stimulus") :]
    table = table[: table.index("</table>")]
    assert "<td>full (seed 0001)</td>" in table and "<td>self (seed 0001)</td>" in table
    cells = re.findall(r"<td>([0-9.]+) <span class='ci'>\[([0-9.]+), ([0-9.]+)\]</span></td>", table)
    assert len(cells) == 2 * len(CONTRASTS)
    for value, low, high in (map(float, cell) for cell in cells):
        assert low <= value <= high and abs(value - 0.9) < 0.1


def test_an_empty_project_says_what_to_run(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--reports", str(tmp_path), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 0
    assert "make experiment EXP=contrast" in (tmp_path / "r.html").read_text()


def test_a_missing_reports_folder_is_one_line(tmp_path: Path) -> None:
    result = runner.invoke(app, ["report", "--reports", str(tmp_path / "nope"), "-o", str(tmp_path / "r.html")])
    assert result.exit_code == 1 and "is not a folder" in result.output
    assert not (tmp_path / "r.html").exists()


@pytest.mark.integration
def test_a_headless_browser_shows_results_on_the_first_screen(page: Path, tmp_path: Path) -> None:
    browser = shutil.which("chromium") or shutil.which("chromium-browser")
    if browser is None:
        pytest.skip("chromium is not installed (scripts/install.sh installs it)")
    flags = [browser, "--headless", "--no-sandbox", "--disable-gpu", "--hide-scrollbars"]
    shot = tmp_path / "first-screen.png"
    subprocess.run([*flags, f"--screenshot={shot}", "--window-size=1280,900", page.as_uri()], check=True, timeout=120)
    pixels = np.asarray(Image.open(shot).convert("RGB")).astype(int)
    assert pixels.shape[:2] == (900, 1280)
    # The accuracy table and the key figure (the comparison's green) are on the first screen.
    assert (np.abs(pixels - (30, 160, 30)).sum(axis=2) < 30).mean() > 0.01
    assert (pixels.sum(axis=2) < 200).mean() > 0.002, "no text"
    dom = subprocess.run([*flags, "--dump-dom", page.as_uri()], capture_output=True, text=True, timeout=120).stdout
    assert dom.index("Results") < dom.index("Networks") < dom.index("Workflow")
