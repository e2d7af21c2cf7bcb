from biasamp.warmstart import handoff

handoff(snakemake.resources.gpu)  # runs the job in a warm child where one applies

from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.gpus import claim

claim(snakemake.resources.gpu)  # before anything touches CUDA

from biasamp.models import MODELS

settings = snakemake.params.settings
MODELS.get(settings["kind"]).implementation.train(
    settings,
    mix_manifest=snakemake.input.manifest,
    model_path=snakemake.output.model,
    seed=int(snakemake.wildcards.seed),
    threads=snakemake.threads,
)
