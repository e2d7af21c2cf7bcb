rule evaluate:
    """Quality and bias of one trained model on the real test split."""
    input:
        model=rules.train.output.model,
        dataset=rules.prepare.output.manifest,
    output:
        metrics=f"{EVALUATION}/{{model}}/metrics.csv",
    log:
        f"results/logs/evaluate/{EVALUATION.removeprefix('results/')}/{{model}}.log",
    conda:
        ENV
    params:
        settings=model_settings,
        evaluation=config["evaluation"],
        table_keys=measurement_keys,
        code=code_fingerprint("biasamp.evaluate"),
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
