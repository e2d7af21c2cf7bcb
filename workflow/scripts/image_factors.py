from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.image_factors import measure_shard

measure_shard(snakemake.input.dataset, snakemake.input.manifest, snakemake.output.factors)
