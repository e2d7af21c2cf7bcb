rule mix:
    """Bring generated images into the real training images by the study's mixing mode:
    replace, bernoulli or append (nested across ratios)."""
    input:
        dataset=f"{DATA}/manifest.parquet",
        generated=generated_images,
    output:
        manifest=f"{MIX}/manifest.parquet",
    log:
        f"results/logs/mix/{{dataset}}/{CHAIN}.log",
    conda:
        ENV
    params:
        mixing=config["mixing"],
        code=code("mix"),
    script:
        "../scripts/mix.py"
