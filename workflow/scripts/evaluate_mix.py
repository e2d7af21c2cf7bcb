from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.evaluate import measure_mix

measure_mix(snakemake.input.manifest, snakemake.params.table_keys, snakemake.output.metrics)
