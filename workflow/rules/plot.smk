# the plot job's processes at most: each pays about a second of imports and reads the tables
PLOT_PROCESSES = 8


rule plot:
    """The files of every registered figure (biasamp.figures) from the metrics and trends
    tables."""
    input:
        metrics=rules.aggregate.output[0],
        trends=rules.trends.output[0],
        factors=[IMAGE_FACTORS, IMAGE_FACTORS_SUMMARY] if GENERATES else [],
    output:
        figure_outputs(),
    log:
        "results/logs/plot.log",
    localrule: True
    conda:
        ENV
    threads: min(len(FIGURE_PLAN), PLOT_PROCESSES)  # Snakemake caps it at --cores
    params:
        plan=FIGURE_PLAN,
        interval=config["plot"]["interval"],
        metric_info=METRIC_INFO,
        code=code("plot", *FIGURE_MODULES),
    script:
        "../scripts/plot.py"


rule contact_sheet:
    """Real and generated images of the same training captions, side by side (what a reader
    looks at first)."""
    input:
        dataset=f"{DATA}/manifest.parquet",
        images=dataset_archive,
        generated=GENERATED,
    output:
        report(
            CONTACT_SHEET,
            caption="../report/contact_sheet.rst",
            category="Data",
            subcategory="Images",
            labels={"dataset": "{dataset}", "generator": "{generator}"},
        ),
    log:
        "results/logs/contact_sheet/{dataset}/{generator}.log",
    localrule: True
    conda:
        ENV
    params:
        code=code("contact_sheet"),
    script:
        "../scripts/contact_sheet.py"
