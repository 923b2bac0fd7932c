"""Figures: dynvision-viz turns the test outputs of an experiment into tidy tables and plots."""

from dynvision.viz.report import caption_template_path
from dynvision.workflow.paths import COMPARISON_STEM

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
        project_paths.log("process_experiment", project_paths.figure_stem),
    shell:
        "{VIZ_CLI} aggregate {wildcards.experiment:q} --parameter {params.parameter:q} "
        "--output {output:q} --input {input:q} > {log:q} 2>&1"


rule plot:
    """Draw one plot of an experiment for one model (from its table, or its model file, sidecar or training log)."""
    input:
        lambda w: plan.plot_input(dict(w)),
    output:
        vector=project_paths.figure(".pdf"),
        png=report(
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
        project_paths.log("plot", project_paths.figure_stem + "_{plot}"),
    shell:
        "{VIZ_CLI} plot {wildcards.plot:q} --parameter {params.parameter:q} "
        "--input {input:q} --output {output.png:q} --output {output.vector:q} > {log:q} 2>&1"


rule compare_experiment:
    """Overlay every network of an experiment's sweep: each measure with a bootstrap interval, and the figures."""
    input:
        lambda w: plan.comparison_inputs(w.experiment, w.sweep),
    output:
        project_paths.comparison_files(),
    params:
        parameter=lambda w: plan.experiment(w.experiment).get("parameter", ""),
        folder=project_paths.comparison_folder(),
        bootstrap=config["bootstrap"],
    log:
        project_paths.log("compare_experiment", "{experiment}_" + COMPARISON_STEM),
    shell:
        "{VIZ_CLI} compare --parameter {params.parameter:q} --output-dir {params.folder:q} "
        "--bootstrap {params.bootstrap} --input {input:q} > {log:q} 2>&1"
