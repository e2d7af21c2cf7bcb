rule generate:
    """Generate one shard: an image per real training caption of that shard that a mix uses."""
    input:
        dataset=f"{DATA}/manifest.parquet",
    output:
        manifest=f"{SHARD}.parquet",
        archive=f"{SHARD}.tar",
    log:
        "results/logs/generate/{dataset}/{generator}/shard-{shard}.log",
    conda:
        ENV
    resources:
        gpu=lambda wildcards: generator_settings(wildcards)["gpus"],
    params:
        settings=generator_settings,
        seed=config["seed"],
        plan=images_to_generate,
        code=kind_code("generate", GENERATORS, generator_settings),
    script:
        "../scripts/generate.py"
