from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.gpus import claim

claim(snakemake.resources.gpu)  # before anything touches CUDA

from biasamp.generate import adapt
from biasamp.seeding import derive_seed

chain = snakemake.wildcards
adapt(
    settings=snakemake.params.settings,
    mix_manifest=snakemake.input.mix,
    out=snakemake.output.adapter,
    # each chain's adaptation draws its own batches and noise
    seed=derive_seed(
        snakemake.params.seed,
        "adapt",
        chain.dataset,
        chain.generator,
        chain.round,
        chain.ratio,
        chain.seed,
    ),
)
