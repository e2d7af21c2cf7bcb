from biasamp.warmstart import handoff

handoff(snakemake.resources.gpu)  # runs the job in a warm child where one applies

from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.gpus import claim

device = "cuda" if claim(snakemake.resources.gpu) else "cpu"  # before anything touches CUDA
# decoding processes (no result changes), within the cores the job got: Snakemake scales a
# job's threads down to --cores, and one core stays with the compute threads
WORKERS = min(snakemake.config["evaluation"]["workers"], max(0, snakemake.threads - 1))

from biasamp.evaluate import evaluate_model

evaluate_model(
    model_settings=snakemake.params.settings,
    model_path=snakemake.input.model,
    dataset_manifest=snakemake.input.dataset,
    # the batch size changes no result: read from the config, not a param
    evaluation={**snakemake.params.evaluation,
                "batch_size": snakemake.config["evaluation"]["batch_size"]},
    keys=snakemake.params.table_keys,
    out_metrics=snakemake.output.metrics,
    captions_csv=snakemake.input.captions or None,
    mix_manifest=snakemake.input.mix,
    probe_manifest=snakemake.input.probe[0] if snakemake.input.probe else None,
    device=device,
    threads=max(1, snakemake.threads - WORKERS),
    workers=WORKERS,
)
