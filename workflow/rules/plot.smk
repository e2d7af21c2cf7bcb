rule plot:
    """One figure per metric against the contamination ratio (mean and CI over seeds)."""
    input:
        metrics=rules.aggregate.output[0],
    output:
        [
            report(path, caption="../report/figure.rst", category="Figures")
            for path in figure_paths()
        ],
    log:
        "results/logs/plot.log",
    localrule: True
    conda:
        ENV
    params:
        metrics=metric_names(config["evaluation"], CAPTIONING),
        interval=config["plot"]["interval"],
        code=code_fingerprint("biasamp.plot"),
    script:
        "../scripts/plot.py"
