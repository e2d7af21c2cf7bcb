from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.image_factors import measure_shards

measure_shards(
    snakemake.input.dataset, list(snakemake.input.manifests), snakemake.output.factors
)
