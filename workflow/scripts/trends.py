from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.trends import write_trends

write_trends(
    snakemake.input.metrics,
    directions=snakemake.params.directions,
    level_percent=snakemake.params.level,
    rests_on=snakemake.params.rests_on,
    out_csv=snakemake.output[0],
)
