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
        code=code_fingerprint("biasamp.datasets"),
    script:
        "../scripts/prepare.py"
