"""Figures: dynvision-viz turns the test outputs of an experiment into tidy tables and plots."""

FIGURE_FOLDER = (
    project_paths.figures
    / "{experiment}"
    / "{experiment}_{model_name}{model_args}_{seed}_{data_name}_{status}_{data_group}"
)
CAPTION = WORKFLOW_DIR / "report" / "figure.rst"


rule process_experiment:
    """Collect the test outputs of all data-argument levels of an experiment into one tidy table."""
    input:
        lambda w: plan.figure_inputs(w.experiment, dict(w)),
    output:
        FIGURE_FOLDER / "data.csv",
    params:
        parameter=lambda w: plan.experiment(w.experiment).get("parameter", ""),
    log:
        project_paths.logs / "process_experiment" / "{experiment}_{model_name}{model_args}_{seed}_{data_name}_{status}_{data_group}.log",
    shell:
        "{VIZ_CLI} aggregate {wildcards.experiment:q} --parameter {params.parameter:q} "
        "--output {output:q} --input {input:q} > {log:q} 2>&1"


rule plot:
    """Draw one plot of an experiment for one model."""
    input:
        FIGURE_FOLDER / "data.csv",
    output:
        report(
            FIGURE_FOLDER / "{plot}.png",
            caption=CAPTION,
            category="{experiment}",
            subcategory="{model_name}",
            labels={"experiment": "{experiment}", "model": "{model_name}{model_args}", "plot": "{plot}"},
        ),
    params:
        parameter=lambda w: plan.experiment(w.experiment).get("parameter", ""),
    log:
        project_paths.logs / "plot" / "{experiment}_{model_name}{model_args}_{seed}_{data_name}_{status}_{data_group}_{plot}.log",
    shell:
        "{VIZ_CLI} plot {wildcards.plot:q} --parameter {params.parameter:q} "
        "--input {input:q} --output {output:q} > {log:q} 2>&1"
