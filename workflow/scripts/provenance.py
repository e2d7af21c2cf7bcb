from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.provenance import write_provenance

write_provenance(snakemake.params.config, snakemake.output[0])
