rule image_factors:
    """Image factors (sharpness, luminance, contrast, colourfulness, face found) of the images
    of a block of generation shards and of the real images whose captions were their prompts.
    """
    input:
        dataset=f"{DATA}/manifest.parquet",
        images=dataset_archive,
        manifests=lambda wildcards: factor_block_inputs(wildcards, "parquet"),
        archives=lambda wildcards: factor_block_inputs(wildcards, "tar"),
    output:
        factors=f"{FACTOR_BLOCK}.parquet",
    log:
        "results/logs/image_factors/{dataset}/{generator}/block-{block}.log",
    conda:
        ENV
    params:
        code=code("image_factors"),
    script:
        "../scripts/image_factors.py"


rule image_factor_tables:
    """The study's image-factor tables: every measured image (for the figures) and, per
    dataset, generator, source, factor and group, the mean with its interval and the
    generated - real difference."""
    input:
        factor_block_files(),
    output:
        summary=report(
            IMAGE_FACTORS_SUMMARY,
            caption="../report/image_factors.rst",
            category="Data",
        ),
        images=IMAGE_FACTORS,
    log:
        "results/logs/image_factor_tables.log",
    localrule: True
    conda:
        ENV
    params:
        blocks=factor_blocks_by_generator(),
        level=config["plot"]["interval"],
        code=code("image_factor_tables"),
    script:
        "../scripts/image_factor_tables.py"
