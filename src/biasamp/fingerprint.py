"""Code fingerprints: which package code a rule's outputs depend on.

Snakemake reruns a job when its params change but does not track modules its script imports.
Each rule therefore gets a param with the fingerprint of the package modules its script
imports, followed transitively through ``biasamp`` imports (read from the source, nothing is
imported), plus the modules of the registry entries it runs: the kind it is configured with,
or every metric suite or figure. Registries find their entries' modules themselves, so no
import line ties a rule to every kind: fixing a metric changes the evaluate rule's fingerprint
only (the study re-evaluates without retraining), and editing the diffusers generator does not
rerun the toy generator's shards.
"""

from __future__ import annotations

import ast
import hashlib
from functools import cache
from pathlib import Path

PACKAGE = "biasamp"
ROOT = Path(__file__).resolve().parent


def _module_file(name: str) -> Path | None:
    parts = name.split(".")[1:]
    base = ROOT.joinpath(*parts)
    for candidate in (base.with_suffix(".py"), base / "__init__.py"):
        if candidate.is_file():
            return candidate
    return None


def _imports(name: str, path: Path) -> set[str]:
    """The ``biasamp`` modules the file at ``path`` (module ``name``; a script: ``""``)
    imports, anywhere in it (function bodies included)."""
    found = set()
    package = name if path.name == "__init__.py" else name.rpartition(".")[0]
    for node in ast.walk(ast.parse(path.read_text(), str(path))):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.split(".")[0] == PACKAGE}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = ".".join(package.split(".")[: len(package.split(".")) - node.level + 1])
                module = f"{base}.{node.module}" if node.module else base
            else:
                module = node.module or ""
            if module.split(".")[0] != PACKAGE:
                continue
            found.add(module)
            found |= {f"{module}.{a.name}" for a in node.names}  # submodules imported by name
    # a submodule import also runs its parent packages' __init__
    parents = {".".join(m.split(".")[:i]) for m in found for i in range(1, m.count(".") + 1)}
    return found | parents


@cache
def closure(entry: str) -> tuple[Path, ...]:
    """Files of module ``entry`` and of every ``biasamp`` module it imports, transitively."""
    seen: dict[str, Path] = {}
    todo = [entry]
    while todo:
        name = todo.pop()
        path = _module_file(name)
        if name in seen or path is None:
            continue
        seen[name] = path
        todo.extend(_imports(name, path) - set(seen))
    return tuple(sorted(set(seen.values())))


def script_modules(script: str | Path) -> tuple[str, ...]:
    """The ``biasamp`` modules a script file (``workflow/scripts/*.py``) imports directly."""
    return tuple(sorted(m for m in _imports("", Path(script)) if _module_file(m) is not None))


def code_fingerprint(*entries: str, data: tuple[str, ...] = (), script: str | None = None) -> str:
    """SHA-256 (first 16 hex digits) over the closure of the given modules' source files (and
    of those ``script`` imports), plus package data files matching the ``data`` globs (e.g.
    ``"model_configs/*.json"``)."""
    digest = hashlib.sha256()
    entries = (*entries, *(script_modules(script) if script else ()))
    files = {p for e in entries for p in closure(e)} | {p for g in data for p in ROOT.glob(g)}
    for path in sorted(files):
        digest.update(str(path.relative_to(ROOT)).encode() + b"\0" + path.read_bytes() + b"\0")
    return digest.hexdigest()[:16]
