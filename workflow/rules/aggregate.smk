rule aggregate:
    """Concatenate every job's measurements into the tidy table results/metrics.csv."""
    input:
        measurement_tables(),
    output:
        report(
            "results/metrics.csv",
            caption="../report/metrics.rst",
            category="Data",
        ),
    log:
        "results/logs/aggregate.log",
    localrule: True
    conda:
        ENV
    params:
        rounds=config["rounds"],
        code=code("aggregate"),
    script:
        "../scripts/aggregate.py"


rule provenance:
    """Record what produced the results: the validated config, the word lists (with their
    version) and library versions, as results/provenance.json."""
    output:
        report(
            "results/provenance.json",
            caption="../report/provenance.rst",
            category="Provenance",
        ),
    log:
        "results/logs/provenance.log",
    localrule: True
    conda:
        ENV
    params:
        config=config,
        word_lists=WORDLISTS_VERSION,
        code=code("provenance"),
    script:
        "../scripts/provenance.py"


rule trends:
    """The study's answer table: per measurement, the slope over the contamination ratio with
    its confidence interval over seeds and a verdict (amplified, mitigated, no evidence...).
    """
    input:
        metrics=rules.aggregate.output[0],
    output:
        report(
            "results/trends.csv",
            caption="../report/trends.rst",
            category="Summary",
        ),
    log:
        "results/logs/trends.log",
    localrule: True
    conda:
        ENV
    params:
        directions=METRIC_DIRECTIONS,
        rests_on=METRIC_RESTS_ON,
        blind_values=METRIC_BLIND_VALUES,
        level=config["plot"]["interval"],
        code=code("trends"),
    script:
        "../scripts/trends.py"
