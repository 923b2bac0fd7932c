"""Model initialisation, training and testing: each rule calls a `dynvision-workflow` command.

Every path comes from `project_paths` (dynvision.workflow.paths), the one place that knows the layout.
"""

from dynvision.workflow.controls import switch_off_setting
from dynvision.workflow.launcher import launcher_prefix
from dynvision.workflow.paths import MODEL_STEM, TEST_STEM, sidecar, tag_parts
from dynvision.workflow.records import write_yaml


def training_data(wildcards):
    """FFCV files when use_ffcv is on, else the linked image folder."""
    if config["use_ffcv"]:
        return [DATA.beton(wildcards.data_name, "train"), DATA.beton(wildcards.data_name, "val")]
    return [DATA.link(wildcards.data_name, "train_all")]


rule hashed_args:
    """Write the index entry of a hashed argument token: which argument string it stands for."""
    output:
        project_paths.hashed_args(),
    localrule: True
    run:
        write_yaml(output[0], {wildcards.token: plan.args_text(wildcards.token)})


rule init_model:
    """Create a model with the given arguments and seed and save its initial state."""
    input:
        dataset=DATA.link("{data_name}", "train_all"),
        index=plan.index_input("model_args"),
    output:
        model_state=project_paths.model("init"),
        model_config=sidecar(project_paths.model("init")),
    params:
        model_args=lambda w: plan.args_text(w.model_args),
        data_root=DATA.root,
        pretrained="--pretrained" if config["init_with_pretrained"] else "--no-pretrained",
        registry=config["weights_registry"],
    log:
        project_paths.log("init_model", MODEL_STEM),
    shell:
        "{WORKFLOW_CLI} init-model --model-name {wildcards.model_name:q} --model-args={params.model_args:q} "
        "--seed {wildcards.seed:q} --data-name {wildcards.data_name:q} --data-root {params.data_root:q} "
        "{params.pretrained} --registry {params.registry:q} --output {output.model_state:q} > {log:q} 2>&1"


rule pretrained_model:
    """A model as the registered weights trained on its dataset (weights_registry), instead of training it:
    status pretrained, built with the arguments the weights were trained with."""
    input:
        registry=config["weights_registry"],
        index=plan.index_input("model_args"),
    output:
        model_state=project_paths.model("pretrained"),
        model_config=sidecar(project_paths.model("pretrained")),
    params:
        model_args=lambda w: plan.args_text(w.model_args),
        data_root=DATA.root,
        weights=lambda w: plan.weights_tag(w.model_name, w.data_name),
    log:
        project_paths.log("pretrained_model", MODEL_STEM),
    shell:
        "{WORKFLOW_CLI} init-model --model-name {wildcards.model_name:q} --model-args={params.model_args:q} "
        "--seed {wildcards.seed:q} --data-name {wildcards.data_name:q} --data-root {params.data_root:q} "
        "--no-pretrained --registry {input.registry:q} --weights {params.weights:q} "
        "--output {output.model_state:q} > {log:q} 2>&1"


rule train_model:
    """Train an initialised model, saving it after the epochs experiments test and every save_every-th; an
    interrupted run resumes from its last checkpoint (--rerun-incomplete)."""
    input:
        model_state=project_paths.model("init"),
        dataset=training_data,
    output:
        model_state=project_paths.model("trained"),
        model_config=sidecar(project_paths.model("trained")),
        epoch_states=plan.epoch_models(),
        epoch_configs=[sidecar(model) for model in plan.epoch_models()],
        metrics=project_paths.training_metrics(),
    params:
        data_root=DATA.root,
        checkpoint_dir=project_paths.checkpoints(),  # a pattern: Snakemake fills in the wildcards
        log_dir=project_paths.training_logs(),
        epochs=config["epochs"],
        save_epochs=" ".join(f"--save-epoch {epoch}" for epoch in plan.saved_epochs()),
        learning_rate=config["learning_rate"],
        energy_weight=config["energy_weight"],
        batch_size=batch_size(config),
        precision=config["precision"],
        ffcv="--ffcv" if config["use_ffcv"] else "--no-ffcv",
        progress="--progress" if progress_bar() else "--no-progress",
        ratio=config["train_ratio"],
        augmentation=config["augmentation"],
        freeze_pretrained="--freeze-pretrained" if config["freeze_pretrained"] else "--no-freeze-pretrained",
        num_workers=config["num_workers"],
        max_images=option("--max-images", config["train_images"]),
        devices=config["devices"],
        strategy=config["strategy"],
        # srun starting one process per GPU when the cluster profile asks for several (resource mpi), else empty;
        # only a known launcher, every word quoted (dynvision.workflow.launcher).
        launcher=lambda wildcards, resources: launcher_prefix(resources.get("mpi", "")),
    log:
        project_paths.log("train_model", MODEL_STEM + project_paths.training_tag),
    benchmark:
        project_paths.benchmark("train_model", MODEL_STEM + project_paths.training_tag)
    threads: rule_resources("train_model")["threads"]
    resources:
        mem_mb=scaled("train_model", "mem_mb"),
        runtime=scaled("train_model", "runtime"),
        gpu=rule_resources("train_model")["gpu"],
    shell:
        "{params.launcher} {WORKFLOW_CLI} train-model --input {input.model_state:q} --output {output.model_state:q} "
        "--data-name {wildcards.data_name:q} --data-root {params.data_root:q} --epochs {params.epochs} "
        "{params.save_epochs} --learning-rate {params.learning_rate} --energy-weight {params.energy_weight} "
        "--batch-size {params.batch_size} --precision {params.precision:q} {params.ffcv} {params.progress} "
        "--ratio {params.ratio} --augmentation {params.augmentation:q} {params.freeze_pretrained} "
        "--num-workers {params.num_workers} "
        "{params.max_images} --threads {threads} --devices {params.devices:q} --strategy {params.strategy:q} "
        "--checkpoint-dir {params.checkpoint_dir:q} --log-dir {params.log_dir:q} > {log:q} 2>&1"


rule test_model:
    """Show the stimuli of a data loader to a model, some connections switched off, and record outputs and
    responses (the viz data contract)."""
    input:
        model_state=project_paths.model(),
        dataset=DATA.link("{data_name}", "test_{data_group}"),
        index=plan.index_input("data_args"),
    output:
        responses=project_paths.responses(),
        results=project_paths.outputs(),
        responses_config=sidecar(project_paths.responses()),
        results_config=sidecar(project_paths.outputs()),
    params:
        data_args=lambda w: plan.args_text(w.data_args),
        switch_off=lambda w: switch_off_setting(tag_parts(w.switch_off)),
        data_root=DATA.root,
        batch_size=config["test_batch_size"],
        record=config["record"],
        progress="--progress" if progress_bar() else "--no-progress",
        max_images=option("--max-images", config["test_images"]),
    log:
        project_paths.log("test_model", TEST_STEM),
    benchmark:
        project_paths.benchmark("test_model", TEST_STEM)
    threads: rule_resources("test_model")["threads"]
    resources:
        mem_mb=scaled("test_model", "mem_mb"),
        runtime=scaled("test_model", "runtime"),
        gpu=rule_resources("test_model")["gpu"],
    shell:
        "{WORKFLOW_CLI} test-model --input {input.model_state:q} --data-name {wildcards.data_name:q} "
        "--data-group {wildcards.data_group:q} --data-loader {wildcards.data_loader:q} "
        "--data-args={params.data_args:q} --switch-off {params.switch_off:q} --data-root {params.data_root:q} "
        "--batch-size {params.batch_size} "
        "--record {params.record} {params.progress} {params.max_images} --threads {threads} "
        "--responses {output.responses:q} --outputs {output.results:q} > {log:q} 2>&1"
