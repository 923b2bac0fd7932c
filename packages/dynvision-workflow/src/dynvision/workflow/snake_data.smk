"""Data preparation: download (or generate), link subsets, convert to FFCV .beton files."""

DATA = project_paths.data


rule get_data:
    """Download or generate a dataset into data/raw/{data_name}/{train,test}."""
    output:
        train=directory(DATA.raw / "{data_name}" / "train"),
        test=directory(DATA.raw / "{data_name}" / "test"),
    params:
        data_root=DATA.root,
        definition=lambda w: plan.data_definition(w.data_name),  # a changed entry of datasets: gets it again
    log:
        project_paths.log("get_data", "{data_name}"),
    shell:
        "{DATA_CLI} get {wildcards.data_name:q} --data-root {params.data_root:q} > {log:q} 2>&1"


rule link:
    """Mark the images of a subset (train_all, or test_{group}) for the loaders: interim/.../folder.link."""
    input:
        lambda w: DATA.raw / w.data_name / ("train" if w.data_subset == "train_all" else "test"),
    output:
        DATA.link("{data_name}", "{data_subset}"),
    params:
        data_root=DATA.root,
        classes=lambda w: plan.data_definition(w.data_name, w.data_subset),  # a redefined group is linked again
    log:
        project_paths.log("link", "{data_name}_{data_subset}"),
    shell:
        "{DATA_CLI} link {wildcards.data_name:q} --subset {wildcards.data_subset:q} "
        "--data-root {params.data_root:q} > {log:q} 2>&1"


rule convert:
    """Split the training images into FFCV train/val .beton files (used when use_ffcv is true)."""
    input:
        DATA.link("{data_name}", "train_all"),
    output:
        train=DATA.beton("{data_name}", "train"),
        val=DATA.beton("{data_name}", "val"),
    params:
        data_root=DATA.root,
        ratio=config["train_ratio"],
    log:
        project_paths.log("convert", "{data_name}"),
    benchmark:
        project_paths.benchmark("convert", "{data_name}")
    shell:
        "{DATA_CLI} convert {wildcards.data_name:q} --ratio {params.ratio} --seed 0 "
        "--data-root {params.data_root:q} > {log:q} 2>&1"
