"""biasamp: does AI-generated training data amplify social bias in vision models?

All logic of the workflow lives in this package; the Snakemake rules only wire it together.
"""

__version__ = "0.1.0"


def export_to_jobs() -> None:
    """Put this package's source tree first on the PYTHONPATH of every job started from here.

    Jobs run in other processes (local, conda environments, SLURM nodes, which inherit the
    environment); they then import this very code, the code whose fingerprint the rules carry.
    """
    import os
    from pathlib import Path

    src = str(Path(__file__).resolve().parents[1])
    current = os.environ.get("PYTHONPATH", "")
    if current.split(os.pathsep)[0] != src:
        os.environ["PYTHONPATH"] = os.pathsep.join(filter(None, [src, current]))
