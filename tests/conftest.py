import copy
import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import yaml

REPO = Path(__file__).resolve().parents[1]

# The smallest study that still exercises every stage: seconds per job on one core.
TINY_STUDY = {
    "seed": 0,
    "seeds": [0],
    "ratios": [0, 0.5, 1],
    "datasets": {"toy": {"kind": "toy", "n_images": 240, "seed": 0,
                         "splits": {"train": 0.6, "val": 0.05, "test": 0.35}}},
    "generators": {"toy-amplify": {"kind": "toy", "amplification": 3.0, "face_blur": 1.5,
                                   "shards": 2}},
    "models": {"clip": {"kind": "clip", "epochs": 1, "batch_size": 32, "warmup": 2}},
    "evaluation": {"recall_k": [1, 5], "bias_k": 5},
    "plot": {"formats": ["png"]},
}


@pytest.fixture
def tiny_study():
    return copy.deepcopy(TINY_STUDY)


def copy_workflow(dest: Path, config: dict) -> Path:
    """A private copy of the workflow (code included) with ``config`` as its default config."""
    for name in ("Snakefile", "workflow", "src", "envs", "profiles"):
        source = REPO / name
        if source.is_dir():
            shutil.copytree(source, dest / name, ignore=shutil.ignore_patterns("__pycache__"))
        else:
            shutil.copy2(source, dest / name)
    (dest / "config").mkdir()
    (dest / "config" / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False))
    return dest


def snakemake(workdir: Path, *args: str, check: bool = True) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=workdir, capture_output=True, text=True,
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def generator_settings(**entry) -> dict:
    """A generator entry with every default filled in, as the workflow would pass it."""
    from biasamp.config import validate_config

    config = validate_config({"datasets": {"toy": {"kind": "toy"}}, "generators": {"g": entry},
                              "models": {"clip": {"kind": "clip"}}})
    return config["generators"]["g"]
