from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.datasets import prepare

prepare(snakemake.params.settings, snakemake.output.manifest)
