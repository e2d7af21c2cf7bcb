rule aggregate:
    """Concatenate every job's measurements into the tidy table results/metrics.csv."""
    input:
        measurement_tables(),
    output:
        report(
            "results/metrics.csv",
            caption="../report/metrics.rst",
            category="Tables",
        ),
    log:
        "results/logs/aggregate.log",
    localrule: True
    conda:
        ENV
    params:
        code=code_fingerprint("biasamp.tables"),
    script:
        "../scripts/aggregate.py"
