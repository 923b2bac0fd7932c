"""Figures: dynvision-viz turns the test outputs of an experiment into tidy tables and plots."""

from dynvision.viz.report import caption_template_path
from dynvision.workflow.paths import FIGURE_STEM

CAPTION = caption_template_path()  # dynvision-viz's scientific caption of each plot, chosen by the plot wildcard


rule process_experiment:
    """Collect the test outputs of all data-argument levels of an experiment into one tidy table."""
    input:
        lambda w: plan.figure_inputs(w.experiment, dict(w)),
    output:
        project_paths.figure_data(),
    params:
        parameter=lambda w: plan.experiment(w.experiment).get("parameter", ""),
    log:
        project_paths.log("process_experiment", FIGURE_STEM),
    shell:
        "{VIZ_CLI} aggregate {wildcards.experiment:q} --parameter {params.parameter:q} "
        "--output {output:q} --input {input:q} > {log:q} 2>&1"


rule plot:
    """Draw one plot of an experiment for one model."""
    input:
        project_paths.figure_data(),
    output:
        report(
            project_paths.figure(),
            caption=CAPTION,
            category="{experiment}",
            subcategory="{model_name}",
            labels={
                "experiment": "{experiment}",
                "model": "{model_name}{model_args}",
                "seed": "{seed}",
                "data": "{data_name} {status}{switch_off}, group {data_group}",
                "plot": "{plot}",
            },
        ),
    params:
        parameter=lambda w: plan.experiment(w.experiment).get("parameter", ""),
    log:
        project_paths.log("plot", FIGURE_STEM + "_{plot}"),
    shell:
        "{VIZ_CLI} plot {wildcards.plot:q} --parameter {params.parameter:q} "
        "--input {input:q} --output {output:q} > {log:q} 2>&1"
