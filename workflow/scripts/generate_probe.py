from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.gpus import claim

claim(snakemake.resources.gpu)  # before anything touches CUDA

from biasamp.probe import generate_probe

generate_probe(
    settings=snakemake.params.settings,
    generator_name=snakemake.wildcards.generator,
    dataset_manifest=snakemake.input.dataset,
    n_images=snakemake.params.images,
    seed=snakemake.params.seed,
    out_manifest=snakemake.output.manifest,
    out_archive=snakemake.output.archive,
)
