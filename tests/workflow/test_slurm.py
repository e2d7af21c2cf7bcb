"""The SLURM profile on a real Slurm: a one-node cluster on this machine runs the tiny study.

Needs root (the daemons, and apt to install slurm-wlm and munge when absent). Where that is
impossible the test skips, except under CI (``CI`` set, as ``.ci/run`` does), where it fails:
a SLURM path that CI never ran would be untested.
"""

import copy
import os
import re

import pytest
from helpers import TINY_STUDY, copy_workflow, snakemake
from helpers.slurm_cluster import Cluster, Unavailable

from biasamp import tables

pytestmark = pytest.mark.workflow

# Rules submitted with sbatch, and what this test's node can give each (the profile's own
# requests are sized for a real cluster: more CPUs and memory than a CI machine has).
SUBMITTED = ("prepare", "prepare_archived", "generate", "mix", "evaluate_mix", "train", "caption",
             "evaluate")
SMALL = {"cpus_per_task": 1, "mem_mb": 500, "runtime": 20}


def study() -> dict:
    config = copy.deepcopy(TINY_STUDY)
    config.update(ratios=[0, 1])
    config["generators"]["toy-amplify"]["shards"] = 1
    return config


@pytest.fixture(scope="module")
def cluster(tmp_path_factory):
    running = None
    try:
        running = Cluster(tmp_path_factory.mktemp("slurm")).start()
    except Unavailable as why:
        if os.environ.get("CI"):
            pytest.fail(f"the real-Slurm test cannot run here: {why}")
        pytest.skip(f"no Slurm here: {why}")
    started = list(running.processes)
    yield running
    running.stop()
    assert len(started) == 3 and all(p.poll() is not None for p in started)  # all stopped


def test_the_slurm_profile_runs_the_study_as_a_local_run_does(cluster, tmp_path, monkeypatch):
    monkeypatch.setenv("SLURM_CONF", cluster.env["SLURM_CONF"])
    monkeypatch.setenv("PATH", cluster.env["PATH"])
    (tmp_path / "slurm").mkdir()
    on_slurm = copy_workflow(tmp_path / "slurm", study())
    overrides = [f"{rule}:{key}={value}" for rule in SUBMITTED for key, value in SMALL.items()]
    result = snakemake(
        on_slurm, "--profile", "profiles/slurm",
        # no accounting database on the test node: squeue (MinJobAge=600 keeps jobs visible)
        "--slurm-status-command", "squeue", "--slurm-no-account",
        "--slurm-init-seconds-before-status-checks", "2", "--latency-wait", "5",
        "--default-resources", *(f"{k}={v}" for k, v in SMALL.items()),
        "--set-resources", *overrides,
    )
    log = result.stdout + result.stderr
    submitted = re.findall(r"has been submitted with SLURM jobid (\d+)", log)
    # prepare, generate, train x2, evaluate x2, and the two mix groups: all through sbatch
    assert len(submitted) >= 8, log
    assert "Falling back to 'sacct'" not in log

    (tmp_path / "local").mkdir()
    local = copy_workflow(tmp_path / "local", study())
    snakemake(local)
    on_cluster = tables.read(on_slurm / "results" / "metrics.csv")
    assert on_cluster.equals(tables.read(local / "results" / "metrics.csv"))
    for name in ("figures/recall_at_1.png", "provenance.json"):
        assert (on_slurm / "results" / name).read_bytes() == \
            (local / "results" / name).read_bytes()
