from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.mix import write_mix

write_mix(
    dataset_manifest=snakemake.input.dataset,
    generated_manifest=snakemake.input.get("generated"),
    ratio=float(snakemake.wildcards.ratio),
    seed=int(snakemake.wildcards.seed),
    out_manifest=snakemake.output.manifest,
    mixing=snakemake.params.mixing,
)
