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
    params:
        code=code_fingerprint("biasamp.tables"),
    localrule: True
    log:
        "results/logs/aggregate.log",
    conda:
        ENV
    script:
        "../scripts/aggregate.py"
