"""What the tests share: the tiny study, a private copy of the workflow to run it in, and
Snakemake runs (data files in the real formats: :mod:`helpers.data`)."""

import copy
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import yaml

REPO = Path(__file__).resolve().parents[2]

# The smallest study that still exercises every stage: a config file a user can run too.
TINY_STUDY = yaml.safe_load((REPO / ".test" / "config" / "config.yaml").read_text())


def tiny_study() -> dict:
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


def snakemake(workdir: Path, *args: str, check: bool = True,
              env: dict[str, str] | None = None) -> subprocess.CompletedProcess:
    result = subprocess.run(
        [sys.executable, "-m", "snakemake", "--cores", "2", *args],
        cwd=workdir, capture_output=True, text=True, env={**os.environ, **(env or {})},
    )
    if check and result.returncode != 0:
        raise AssertionError(
            f"snakemake {' '.join(args)} failed:\n{result.stdout}\n{result.stderr}")
    return result


def planned_jobs(result) -> dict[str, int]:
    """Rule -> job count from the 'Job stats' table of a dry run ({} when nothing to do)."""
    text = result.stdout + result.stderr
    if "Job stats:" not in text:
        assert "Nothing to be done" in text, text
        return {}
    table = text.split("Job stats:", 1)[1].split("Reasons:", 1)[0]
    return {rule: int(n) for rule, n in re.findall(r"^(\w+)\s+(\d+)\s*$", table, re.M)
            if rule != "total"}


def generator_settings(**entry) -> dict:
    """A generator entry with every default filled in, as the workflow would pass it."""
    from biasamp.config import validate_entry

    return validate_entry("generators", "g", entry)


def evaluation_settings(**overrides) -> dict:
    """The ``evaluation`` section with every default filled in, as the workflow passes it."""
    from biasamp.config import validate_config

    config = {"datasets": {"toy": {"kind": "toy"}}, "generators": {"g": {"kind": "toy"}},
              "models": {"clip": {"kind": "clip"}}, "evaluation": overrides}
    return validate_config(config)["evaluation"]


def loaded_libraries(workdir: Path) -> dict[str, set[str]]:
    """Rule -> the heavy libraries its jobs imported, from the last line each job writes to its
    log (:mod:`biasamp.joblog`); every job log must have it."""
    loaded: dict[str, set[str]] = {}
    for log in (workdir / "results" / "logs").rglob("*.log"):
        relative = log.relative_to(workdir / "results" / "logs")
        rule = relative.parts[0].removesuffix(".log")
        if rule == "evaluate" and log.name == "mix.log":
            rule = "evaluate_mix"
        found = re.findall(r"heavy libraries loaded: (.*)$", log.read_text(), re.M)
        assert found, f"{log} has no line naming the libraries the job loaded"
        names = set() if found[-1] == "none" else set(found[-1].split(", "))
        loaded.setdefault(rule, set()).update(names)
    return loaded
