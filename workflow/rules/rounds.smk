# Feedback rounds (config key rounds): in round r >= 2 each chain's generator adapts to the
# chain's round r-1 mix, then renders the images the chain's round-r mix uses.


rule adapt:
    """Adapt a generator to one chain's previous-round training mix (feedback rounds)."""
    input:
        mix=previous_mix,
        # the dataset's image archive, where its kind writes one (the mix reads it by reference)
        images=dataset_archive,
    output:
        adapter=directory(ADAPTER),
    log:
        f"results/logs/adapt/{{dataset}}/{CHAIN}.log",
    conda:
        ENV
    resources:
        gpu=lambda wildcards: min(generator_settings(wildcards)["gpus"], 1),
    params:
        settings=adaptation_settings,
        seed=config["seed"],
        code=adaptation_code,
    script:
        "../scripts/adapt.py"


use rule generate as generate_round with:
    input:
        dataset=f"{DATA}/manifest.parquet",
        adapter=ADAPTER,
    output:
        manifest=f"{ROUND_SHARD}.parquet",
        archive=f"{ROUND_SHARD}.tar",
    log:
        f"results/logs/generate/{{dataset}}/{CHAIN}/shard-{{shard}}.log",
    params:
        settings=rendering_settings,
        seed=config["seed"],
        plan=chain_images,
        code=kind_code("generate", GENERATORS, generator_settings),


use rule gather_generated as gather_round with:
    input:
        manifests=round_shards,
        archives=lambda wildcards: round_shards(wildcards, "tar"),
    output:
        manifest=f"{ROUND_GENERATED}.parquet",
    log:
        f"results/logs/generate/{{dataset}}/{CHAIN}/gather.log",
