"""Start-up of a model job: the imports a train, caption or evaluate job pays before any work.

Runs each import set in a fresh interpreter, ``--runs`` times, alternating, and prints the median
wall time and its ratio to ``import torch`` measured in the same run (the floor any model job
pays in its own process). The target of the speed issue is 3 s per model job on 2 cores. The
last rows are the same jobs started warm (:mod:`biasamp.warmstart`): a script that hands itself
to the warm-start server, already running, and imports the job's modules in the forked child.

    python benchmarks/startup.py [--runs 10] [--arch toy-ViT]
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 3.0


def import_sets(arch: str) -> dict[str, str]:
    job = f"from biasamp.openclip import import_open_clip; import_open_clip({arch!r}); "
    return {
        "python alone": "pass",
        "import torch (baseline)": "import torch",
        "torch + torchvision": "import torch, torchvision",
        "open_clip as it imports itself (transformers, timm)": "import torch, open_clip",
        "evaluate / caption job": job + "import biasamp.evaluate, biasamp.caption",
        "train job": job + "import open_clip_train.main, biasamp.models.open_clip_trainer",
    }


def warm(code: str, folder: Path) -> list[str]:
    """The command of a job script that runs ``code`` after handing itself to the server."""
    script = folder / f"job{len(list(folder.iterdir()))}.py"
    script.write_text(f"from biasamp.warmstart import handoff\nhandoff(0)\n{code}\n")
    return [sys.executable, str(script)]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--runs", type=int, default=10)
    parser.add_argument("--arch", default="toy-ViT")
    args = parser.parse_args()
    sets = {name: [sys.executable, "-c", code] for name, code in import_sets(args.arch).items()}
    folder = Path(tempfile.mkdtemp(prefix="startup-"))
    for name in ("evaluate / caption job", "train job"):
        sets[f"{name}, started warm"] = warm(import_sets(args.arch)[name], folder)
        subprocess.run(sets[f"{name}, started warm"], check=True)  # starts the server
    seconds: dict[str, list[float]] = {name: [] for name in sets}
    for _ in range(args.runs):
        for name, command in sets.items():
            start = time.perf_counter()
            subprocess.run(command, check=True)
            seconds[name].append(time.perf_counter() - start)
    baseline = statistics.median(seconds["import torch (baseline)"])
    print(f"start-up, median of {args.runs} (target {TARGET_S:.1f} s per model job):")
    for name, values in seconds.items():
        median = statistics.median(values)
        print(f"  {name:52s} {median:5.2f} s  {median / baseline:4.2f} × torch"
              f"  {median / TARGET_S:4.2f} × target")


if __name__ == "__main__":
    main()
