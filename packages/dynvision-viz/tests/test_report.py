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


def test_template_is_in_sync_and_renders_each_caption() -> None:
    from types import SimpleNamespace

    import jinja2
    from docutils.core import publish_parts

    from dynvision.viz.report import caption_template_path, render_caption_template

    template = caption_template_path().read_text()
    assert template == render_caption_template(), "regenerate captions/figure.rst with render_caption_template()"
    environment = jinja2.Environment(trim_blocks=True, lstrip_blocks=True)  # as Snakemake renders captions
    for name in [*PLOT_NAMES, "other"]:
        snakemake = SimpleNamespace(wildcards=SimpleNamespace(plot=name))
        text = environment.from_string(template).render(snakemake=snakemake)
        expected = caption_path(name).read_text() if name != "other" else "Figure drawn by dynvision-viz.\n"
        assert text.strip() == expected.strip()
        assert publish_parts(text, writer="html")["body"].startswith("<p>")
