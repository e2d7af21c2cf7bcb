rule train:
    """Train one model on one mix; resumes from the trainer's last checkpoint after a crash."""
    input:
        manifest=rules.mix.output.manifest,
        # the dataset's archive; the generator's are inputs of the mix's (gather_generated)
        images=dataset_archive,
    output:
        model=f"{MODEL}/model.pt",
    log:
        f"results/logs/train/{MODEL.removeprefix('results/')}.log",
    conda:
        ENV
    threads: train_threads
    resources:
        gpu=lambda wildcards: model_settings(wildcards)["gpus"],
    params:
        settings=model_params,
        code=kind_code("train", MODELS, model_settings, data=("model_configs/*.json",)),
    script:
        "../scripts/train.py"
