rule plot:
    """The files of every registered figure (biasamp.figures) from the metrics and trends
    tables."""
    input:
        metrics=rules.aggregate.output[0],
        trends=rules.trends.output[0],
    output:
        figure_outputs(),
    log:
        "results/logs/plot.log",
    localrule: True
    conda:
        ENV
    params:
        plan=FIGURE_PLAN,
        interval=config["plot"]["interval"],
        metric_info=METRIC_INFO,
        code=code("plot", *FIGURE_MODULES),
    script:
        "../scripts/plot.py"
