"""Time the default study (config/config.yaml, the toy world) from scratch.

Runs the real workflow in a fresh copy of the repository and prints the wall time, its ratio to
the 10-minute budget (the target is < 1.0, aiming for 0.5 on 2 CPU cores), and the mean job time
per rule read from Snakemake's log.

    python benchmarks/toy_study.py [--cores 2] [--runs 3] [--keep]
"""

from __future__ import annotations

import argparse
import re
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from datetime import datetime
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
BUDGET_S = 600.0
STAMP = "%a %b %d %H:%M:%S %Y"


def per_rule_seconds(log: str) -> dict[str, list[float]]:
    started = {job: (rule, datetime.strptime(t, STAMP)) for t, rule, job in re.findall(
        r"\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]\n(?:local)?rule (\w+):.*?jobid: (\d+)", log, re.S)}
    seconds = defaultdict(list)
    for t, job in re.findall(r"\[(\w{3} \w{3} +\d+ [\d:]+ \d{4})\]\nFinished jobid: (\d+)", log):
        rule, start = started[job]
        seconds[rule].append((datetime.strptime(t, STAMP) - start).total_seconds())
    return seconds


def run_once(cores: str) -> tuple[float, str, Path]:
    """One run of the default study in a fresh copy: wall seconds, Snakemake's log, the copy."""
    workdir = Path(tempfile.mkdtemp(prefix="biasamp-bench-"))
    for name in ("Snakefile", "workflow", "src", "config", "envs", "profiles"):
        copy = shutil.copytree if (REPO / name).is_dir() else shutil.copy2
        copy(REPO / name, workdir / name)
    start = time.perf_counter()
    result = subprocess.run([sys.executable, "-m", "snakemake", "--cores", cores],
                            cwd=workdir, capture_output=True, text=True)
    elapsed = time.perf_counter() - start
    if result.returncode != 0:
        sys.exit(f"the study failed (kept in {workdir}):\n{result.stderr[-3000:]}")
    return elapsed, result.stderr, workdir


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--cores", default="2")
    parser.add_argument("--runs", type=int, default=1,
                        help="runs one after another; the median run is reported")
    parser.add_argument("--keep", action="store_true", help="keep the median run's directory")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")

    runs = []
    for number in range(1, args.runs + 1):
        runs.append(run_once(args.cores))
        print(f"run {number} of {args.runs}: {runs[-1][0]:.1f} s", flush=True)
    runs.sort(key=lambda run: run[0])
    elapsed, log, workdir = runs[len(runs) // 2]
    for _, _, other in runs:
        if other != workdir or not args.keep:
            shutil.rmtree(other)

    median = "" if args.runs == 1 else f" (median of {args.runs})"
    print(f"default toy study, --cores {args.cores}: {elapsed:.1f} s wall{median}")
    print(f"ratio to the {BUDGET_S:.0f} s budget: {elapsed / BUDGET_S:.2f} (target < 1.0, aim 0.5)")
    print(f"{'rule':<14}{'jobs':>6}{'mean s':>9}{'sum s':>9}")
    for rule, seconds in sorted(per_rule_seconds(log).items()):
        print(f"{rule:<14}{len(seconds):>6}{sum(seconds) / len(seconds):>9.1f}{sum(seconds):>9.1f}")
    if args.keep:
        print(f"results kept in {workdir}")


if __name__ == "__main__":
    main()
