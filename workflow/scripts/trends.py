from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.trends import write_trends

write_trends(
    snakemake.input.metrics,
    directions=snakemake.params.directions,
    level_percent=snakemake.params.level,
    rests_on=snakemake.params.rests_on,
    blind_values=snakemake.params.blind_values,
    out_csv=snakemake.output[0],
)
