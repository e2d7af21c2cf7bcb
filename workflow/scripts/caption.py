from biasamp.warmstart import handoff

handoff(snakemake.resources.gpu)  # runs the job in a warm child where one applies

from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.gpus import claim

device = "cuda" if claim(snakemake.resources.gpu) else "cpu"  # before anything touches CUDA
# decoding processes (no result changes), within the cores the job got: Snakemake scales a
# job's threads down to --cores, and one core stays with the compute threads
WORKERS = min(snakemake.config["evaluation"]["workers"], max(0, snakemake.threads - 1))

from biasamp.caption import write_captions

write_captions(
    model_settings=snakemake.params.settings,
    model_path=snakemake.input.model,
    dataset_manifest=snakemake.input.dataset,
    batch_size=snakemake.config["evaluation"]["batch_size"],  # not a param: no result changes
    out_csv=snakemake.output.captions,
    device=device,
    threads=max(1, snakemake.threads - WORKERS),
    workers=WORKERS,
)
