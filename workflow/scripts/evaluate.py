from biasamp.joblog import start

start(snakemake.log[0])

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
    threads=snakemake.threads,
)
