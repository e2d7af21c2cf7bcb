rule prepare:
    """Turn a dataset into the canonical manifest (all splits); its images stay in place."""
    output:
        manifest=f"{DATA}/manifest.parquet",
    log:
        "results/logs/prepare/{dataset}.log",
    wildcard_constraints:
        dataset=names_where(config["datasets"], lambda s: not writes_archive(s)),
    conda:
        ENV
    params:
        settings=dataset_settings,
        code=kind_code("prepare", DATASETS, dataset_settings),
    script:
        "../scripts/prepare.py"


use rule prepare as prepare_archived with:
    output:
        manifest=f"{DATA}/manifest.parquet",
        images=f"{DATA}/images.tar",
    wildcard_constraints:
        dataset=names_where(config["datasets"], writes_archive),


rule prepare_evalset:
    """Turn an evaluation set (evaluation.sets) into a manifest of its test images."""
    output:
        manifest=f"{EVALSET}/manifest.parquet",
    log:
        "results/logs/prepare/evalsets/{evalset}.log",
    wildcard_constraints:
        evalset=names_where(
            config["evaluation"]["sets"], lambda s: not writes_archive(s)
        ),
    conda:
        ENV
    params:
        settings=evalset_settings,
        code=kind_code("prepare", DATASETS, evalset_settings),
    script:
        "../scripts/prepare.py"


use rule prepare_evalset as prepare_evalset_archived with:
    output:
        manifest=f"{EVALSET}/manifest.parquet",
        images=f"{EVALSET}/images.tar",
    wildcard_constraints:
        evalset=names_where(config["evaluation"]["sets"], writes_archive),
