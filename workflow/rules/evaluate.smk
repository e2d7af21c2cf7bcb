rule evaluate:
    """Quality and bias of one trained model on the real test split."""
    input:
        model=rules.train.output.model,
        dataset=rules.prepare.output.manifest,
    output:
        metrics=f"{EVALUATION}/{{model}}/metrics.csv",
    params:
        settings=model_settings,
        evaluation=config["evaluation"],
        table_keys=measurement_keys,
        code=code_fingerprint("biasamp.evaluate"),
    log:
        f"results/logs/evaluate/{EVALUATION.removeprefix('results/')}/{{model}}.log",
    conda:
        ENV
    script:
        "../scripts/evaluate.py"


rule evaluate_mix:
    """Measurements of a training mix itself (dataset bias, generated share)."""
    input:
        manifest=rules.mix.output.manifest,
    output:
        metrics=f"{EVALUATION}/mix_metrics.csv",
    params:
        table_keys=measurement_keys,
        code=code_fingerprint("biasamp.mix"),
    log:
        f"results/logs/evaluate/{EVALUATION.removeprefix('results/')}/mix.log",
    conda:
        ENV
    script:
        "../scripts/evaluate_mix.py"
