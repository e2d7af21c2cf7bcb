from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.plot import plot_all

plot_all(
    snakemake.input.metrics,
    metrics=snakemake.params.metrics,
    outputs=list(snakemake.output),
    interval=snakemake.params.interval,
)
