from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.tables import aggregate

aggregate(list(snakemake.input), snakemake.output[0], snakemake.params.rounds)
