"""Experiment suites: one `.done` flag per experiment stands for all its tests and figures."""

from dynvision.workflow.records import write_experiment_record


rule experiment_done:
    """Run every test and figure of an experiment; write the flag and the config the run used."""
    input:
        lambda w: plan.experiment_inputs(w.experiment),
    output:
        done=project_paths.experiment_done(),
        config=project_paths.experiment_record(),
    localrule: True
    run:
        write_experiment_record(output.done, output.config, list(input), config, wildcards.experiment)
