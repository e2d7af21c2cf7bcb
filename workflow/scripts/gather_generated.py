from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.manifest import gather

gather(list(snakemake.input.manifests), snakemake.output.manifest)
