"""``config/README.md``: every config key, generated from the schemas so it cannot go stale.

``python -m biasamp.config_reference > config/README.md`` writes it; a test checks that the
committed file is what the schemas give. The top level comes from ``schemas/config.schema.yaml``,
each ``kind`` of dataset, generator and model (and evaluation set) from its registry entry.
"""

from __future__ import annotations

import json

from biasamp.config import SECTIONS, top_level_schema
from biasamp.datasets import DATASETS

HEADER = """\
# Configuring a study

A study is one YAML file: `config/config.yaml` (the default study, the toy world) or one given
with `snakemake --configfile FILE` (which replaces it; `config/paper/` holds the published
protocols, `.test/config/config.yaml` the tiny study the tests and CI run). Unknown keys stop
the run with a message naming them; every key below has its default filled in and written to
`results/provenance.json`. Check a config without running it with
`python -m biasamp.config FILE`, and size it with `python -m biasamp.plan FILE`. The README
explains what the settings do to a study (sections "Configuration" and "Metrics").

This file is generated from the schemas (`python -m biasamp.config_reference >
config/README.md`); edit the schemas, not this file.
"""


def _type(schema: dict) -> str:
    if "enum" in schema:
        return " | ".join(json.dumps(v) for v in schema["enum"])
    if "const" in schema:
        return json.dumps(schema["const"])
    if "$ref" in schema:
        return "mapping of names to entries"
    kind = schema.get("type", "")
    if isinstance(kind, list):
        kind = " or ".join(kind)
    if kind == "array" and "items" in schema:
        kind = f"list of {_type(schema['items']) or 'values'}"
    bounds = [f"{word} {schema[key]}" for key, word in
              (("minimum", "≥"), ("exclusiveMinimum", ">"), ("maximum", "≤"),
               ("exclusiveMaximum", "<")) if key in schema]
    return ", ".join([kind or "see description", *bounds])


def _cell(text) -> str:
    return " ".join(str(text).split()).replace("|", "\\|")


def _rows(schema: dict, prefix: str = "") -> list[str]:
    """One table row per property (nested objects expanded as dotted keys)."""
    rows = []
    required = set(schema.get("required", []))
    for name, sub in schema.get("properties", {}).items():
        key = f"{prefix}{name}"
        default = "(required)" if name in required else (
            f"`{json.dumps(sub['default'])}`" if "default" in sub else "")
        types = sub.get("type") if isinstance(sub.get("type"), list) else [sub.get("type")]
        if "object" in types and sub.get("properties"):
            if sub.get("description"):
                rows.append(f"| `{key}` | {_cell(_type(sub))} | {default} | "
                            f"{_cell(sub['description'])} |")
            rows += _rows(sub, f"{key}.")
            continue
        rows.append(f"| `{key}` | {_cell(_type(sub))} | {default} | "
                    f"{_cell(sub.get('description', ''))} |")
    return rows


TABLE_HEAD = ["| key | type | default | what |", "|---|---|---|---|"]


def render() -> str:
    """The whole reference, as Markdown."""
    top = top_level_schema()
    out = [HEADER, "## Top level", "", *TABLE_HEAD, *_rows(top), ""]
    sections = {**SECTIONS, "evaluation.sets": DATASETS}
    for section, registry in sections.items():
        what = {"evaluation.sets": "evaluation set (a dataset kind)"}.get(section, registry.what)
        out += [f"## `{section}`: one entry per {what}", "",
                "Each entry names its `kind`; the keys of each kind:", ""]
        for kind in sorted(registry.names()):
            entry = registry.get(kind)
            doc = (entry.implementation.__doc__ or "").strip().split("\n\n")[0]
            out += [f"### `kind: {kind}`", ""]
            if doc:
                out += [" ".join(doc.split()), ""]
            out += [*TABLE_HEAD, *_rows(entry.schema), ""]
    return "\n".join(out).rstrip() + "\n"


if __name__ == "__main__":
    print(render(), end="")
