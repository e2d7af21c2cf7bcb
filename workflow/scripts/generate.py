from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.gpus import claim

claim(snakemake.resources.gpu)  # before anything touches CUDA

from biasamp.generate import generate_shard

generate_shard(
    settings=snakemake.params.settings,
    generator_name=snakemake.wildcards.generator,
    dataset_manifest=snakemake.input.dataset,
    shard=int(snakemake.wildcards.shard),
    seed=snakemake.params.seed,
    out_manifest=snakemake.output.manifest,
    out_archive=snakemake.output.archive,
    plan=snakemake.params.plan,
    adapter=snakemake.input.get("adapter"),
)
