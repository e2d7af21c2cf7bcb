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
        settings=rendering_settings,
        seed=config["seed"],
        plan=images_to_generate,
        code=kind_code("generate", GENERATORS, generator_settings),
    script:
        "../scripts/generate.py"


rule generate_probe:
    """Generate an image from the caption of each of a sample of test images: the generated
    side of the detectability probe (no mix uses them)."""
    input:
        dataset=f"{DATA}/manifest.parquet",
    output:
        manifest=f"{PROBE}.parquet",
        archive=f"{PROBE}.tar",
    log:
        "results/logs/generate/{dataset}/{generator}/probe.log",
    conda:
        ENV
    resources:
        gpu=lambda wildcards: generator_settings(wildcards)["gpus"],
    params:
        settings=probe_generator_settings,
        seed=config["seed"],
        images=config["evaluation"]["detectability_images"],
        code=kind_code("generate_probe", GENERATORS, generator_settings),
    script:
        "../scripts/generate_probe.py"


rule gather_generated:
    """One manifest of all of a generator's shards: what its mixes draw from. (Mixes and
    training then depend on one file rather than on every shard: a CC3M study has thousands.)
    """
    input:
        manifests=generation_shards,
        archives=lambda wildcards: generation_shards(wildcards, "tar"),
    output:
        manifest=GENERATED,
    log:
        "results/logs/generate/{dataset}/{generator}/gather.log",
    localrule: True
    conda:
        ENV
    params:
        code=code("gather_generated"),
    script:
        "../scripts/gather_generated.py"
