rule evaluate:
    """Quality and bias of one trained model on real images: its dataset's test split or an
    evaluation set."""
    input:
        model=rules.train.output.model,
        dataset=evaluation_images,
    output:
        metrics=f"{EVALUATION}/{{model}}/{{evalset}}.csv",
    log:
        f"results/logs/evaluate/{EVALUATION.removeprefix('results/')}/{{model}}/{{evalset}}.log",
    conda:
        ENV
    params:
        settings=model_settings,
        evaluation=evaluation_settings(),
        table_keys=measurement_keys,
        code=evaluate_code,
    script:
        "../scripts/evaluate.py"


rule evaluate_mix:
    """Measurements of a training mix itself (dataset bias, generated share)."""
    input:
        manifest=rules.mix.output.manifest,
    output:
        metrics=f"{EVALUATION}/mix_metrics.csv",
    log:
        f"results/logs/evaluate/{EVALUATION.removeprefix('results/')}/mix.log",
    conda:
        ENV
    params:
        table_keys=measurement_keys,
        code=code_fingerprint("biasamp.mix"),
    script:
        "../scripts/evaluate_mix.py"
