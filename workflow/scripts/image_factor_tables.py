from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.factor_tables import summarise_study

summarise_study(
    {(d, g): paths for d, g, paths in snakemake.params.blocks},
    level=snakemake.params.level / 100,
    out_summary=snakemake.output.summary,
    out_images=snakemake.output.images,
)
