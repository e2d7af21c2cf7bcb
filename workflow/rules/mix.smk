rule mix:
    """Replace round(ratio x N) real training images by generated ones (nested across ratios)."""
    input:
        dataset=f"{DATA}/manifest.parquet",
        generated=generated_images,
    output:
        manifest=f"{MIX}/manifest.parquet",
    log:
        "results/logs/mix/{dataset}/{generator}/ratio~{ratio}/seed~{seed}.log",
    conda:
        ENV
    params:
        code=code("mix"),
    script:
        "../scripts/mix.py"
