rule prepare:
    """Turn a dataset into the canonical manifest (all splits) plus its image archives."""
    output:
        manifest="results/{dataset}/data/manifest.parquet",
    log:
        "results/logs/prepare/{dataset}.log",
    conda:
        ENV
    params:
        settings=dataset_settings,
        code=dataset_code,
    script:
        "../scripts/prepare.py"


rule prepare_evalset:
    """Turn an evaluation set (evaluation.sets) into a manifest of its test images."""
    output:
        manifest="results/evalsets/{evalset}/manifest.parquet",
    log:
        "results/logs/prepare/evalsets/{evalset}.log",
    conda:
        ENV
    params:
        settings=evalset_settings,
        code=evalset_code,
    script:
        "../scripts/prepare.py"
