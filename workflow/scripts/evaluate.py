from biasamp.joblog import start

start(snakemake.log[0])

from biasamp.gpus import claim

device = "cuda" if claim(snakemake.resources.gpu) else "cpu"  # before anything touches CUDA

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
    device=device,
    threads=max(1, snakemake.threads - snakemake.config["evaluation"]["workers"]),
    workers=snakemake.config["evaluation"]["workers"],  # decoding processes: no result changes
)
