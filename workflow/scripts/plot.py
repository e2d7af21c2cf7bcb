# the guard: plot_all's worker processes (spawned) import this script as their main module
if __name__ == "__main__":
    from biasamp.joblog import start

    start(snakemake.log[0])

    from biasamp.plot import plot_all

    plot_all(
        snakemake.input.metrics,
        snakemake.input.trends,
        plan=snakemake.params.plan,
        outputs=list(snakemake.output),
        interval=snakemake.params.interval,
        metric_info=snakemake.params.metric_info,
        factors=tuple(snakemake.input.factors) or None,
        processes=snakemake.threads,
    )
