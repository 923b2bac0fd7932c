"""Every figure kind has a caption for the HTML report."""

import pytest

from dynvision.viz.report import PLOT_NAMES, caption_path


@pytest.mark.parametrize("name", PLOT_NAMES)
def test_each_plot_has_a_caption(name: str) -> None:
    text = caption_path(name).read_text()
    assert text.startswith("**") and len(text) > 100


def test_unknown_plot_names_the_valid_ones() -> None:
    with pytest.raises(ValueError, match="no caption for plot 'heatmap' \\(valid: responses, performance"):
        caption_path("heatmap")
