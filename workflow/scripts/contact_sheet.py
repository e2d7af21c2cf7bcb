from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.contact_sheet import write_contact_sheet

write_contact_sheet(
    snakemake.input.dataset,
    snakemake.input.generated,
    generator=snakemake.wildcards.generator,
    dataset=snakemake.wildcards.dataset,
    out=snakemake.output[0],
)
