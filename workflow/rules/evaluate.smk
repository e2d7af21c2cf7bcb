rule caption:
    """Captions a captioning model (kind coca) writes for the evaluation images (beam search)."""
    input:
        unpack(evaluation_images),
        model=rules.train.output.model,
    output:
        captions=f"{EVALUATION}/{{model}}/{{evalset}}.captions.csv",
    log:
        f"results/logs/caption/{EVALUATION.removeprefix('results/')}/{{model}}/{{evalset}}.log",
    conda:
        ENV
    threads: config["evaluation"]["threads"] + config["evaluation"]["workers"]
    resources:
        gpu=lambda wildcards: min(model_settings(wildcards)["gpus"], 1),
    params:
        settings=model_params,
        code=kind_code("caption", MODELS, model_settings),
    script:
        "../scripts/caption.py"


rule evaluate:
    """Quality and bias of one trained model on real images: its dataset's test split or an
    evaluation set (and of the captions it wrote, for a captioning model)."""
    input:
        unpack(evaluation_images),
        model=rules.train.output.model,
        mix=rules.mix.output.manifest,
        captions=model_captions,
        probe=probe_images,
    output:
        metrics=f"{EVALUATION}/{{model}}/{{evalset}}.csv",
    log:
        f"results/logs/evaluate/{EVALUATION.removeprefix('results/')}/{{model}}/{{evalset}}.log",
    conda:
        ENV
    threads: config["evaluation"]["threads"] + config["evaluation"]["workers"]
    resources:
        gpu=lambda wildcards: min(model_settings(wildcards)["gpus"], 1),
    params:
        settings=model_params,
        evaluation=evaluation_settings,
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
        code=code("evaluate_mix", *MIX_SUITE_MODULES),
    script:
        "../scripts/evaluate_mix.py"
