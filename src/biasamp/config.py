"""Validate a study config against its JSON schemas and fill in defaults.

The top level is checked against ``schemas/config.schema.yaml``; each dataset, generator and
model entry is then checked against the schema of its ``kind`` from the registry. Errors name
the config key (``generators.toy.amplification``) and say what is allowed, so a bad config stops
the run before any job starts.
"""

from __future__ import annotations

import copy
import os
from importlib import resources

import yaml
from jsonschema import Draft202012Validator, validators

from biasamp.datasets import DATASETS
from biasamp.generators import GENERATORS
from biasamp.models import MODELS, writes_captions
from biasamp.study import ratio_label

SECTIONS = {"datasets": DATASETS, "generators": GENERATORS, "models": MODELS}
# A ratio is written exactly in paths (biasamp.study.ratio_label); longer labels are refused.
MAX_RATIO_LABEL = 20


class ConfigError(ValueError):
    """The study config is invalid; the message names the key and what to do."""


def _with_defaults(validator_class):
    """A validator that also fills in ``default:`` values, depth first."""
    validate_properties = validator_class.VALIDATORS["properties"]

    def properties(validator, props, instance, schema):
        if isinstance(instance, dict):
            for name, subschema in props.items():
                if "default" in subschema:
                    instance.setdefault(name, copy.deepcopy(subschema["default"]))
        yield from validate_properties(validator, props, instance, schema)

    return validators.extend(validator_class, {"properties": properties})


_Validator = _with_defaults(Draft202012Validator)


def top_level_schema() -> dict:
    text = resources.files("biasamp").joinpath("schemas/config.schema.yaml").read_text()
    return yaml.safe_load(text)


def _check(instance: dict, schema: dict, prefix: str) -> None:
    errors = sorted(_Validator(schema).iter_errors(instance), key=lambda e: list(map(str, e.path)))
    if not errors:
        return
    error = errors[0]
    path = ".".join([prefix, *map(str, error.absolute_path)]).strip(".")
    if error.validator == "additionalProperties":
        allowed = set(error.schema.get("properties", {}))
        unknown = sorted(set(error.instance) - allowed)
        key = ".".join(filter(None, [path, unknown[0]]))
        hint = f"allowed keys here: {', '.join(sorted(allowed))}" if allowed else ""
        raise ConfigError(f"unknown config key '{key}'; remove or rename it. {hint}".strip())
    raise ConfigError(f"config key '{path or '<top level>'}': {error.message}")


def _entry_problems(section: str, name: str, entry: dict, registry,
                    check_files: bool = True) -> list[str]:
    """Check one entry against the schema of its kind (filling defaults; a schema error
    raises) and return what its kind's own check finds (missing data files, ...), unless
    ``check_files`` is false."""
    kind = entry["kind"]
    if kind not in registry:
        raise ConfigError(
            f"config key '{section}.{name}.kind': unknown {registry.what} {kind!r}; "
            f"known kinds: {', '.join(registry.names())}"
        )
    spec = registry.get(kind)
    schema = copy.deepcopy(spec.schema)
    schema.setdefault("properties", {})["kind"] = {"const": kind}
    _check(entry, schema, f"{section}.{name}")
    return [f"config key '{section}.{name}.{key}': {message}"
            for key, message in (spec.check(entry) if spec.check and check_files else [])]


def validate_entry(section: str, name: str, entry: dict) -> dict:
    """Validate one entry of ``section`` (datasets, generators, models, evaluation.sets) on its
    own, in place (filling defaults), and return it.

    >>> validate_entry("models", "clip", {"kind": "clip"})["arch"]
    'toy-ViT'
    """
    registry = {**SECTIONS, "evaluation.sets": DATASETS}[section]
    problems = _entry_problems(section, name, entry, registry)
    if problems:
        raise ConfigError("\n".join(problems))
    return canonical(entry)


def validate_config(config: dict, check_files: bool = True) -> dict:
    """Validate ``config`` in place (filling defaults) and return it. ``check_files=False``
    leaves out what needs the data, weights and tools to be there (planning a study before
    fetching them).

    >>> cfg = validate_config({"datasets": {"toy": {"kind": "toy"}},
    ...     "generators": {"amp": {"kind": "toy"}}, "models": {"clip": {"kind": "clip"}}})
    >>> cfg["ratios"], cfg["generators"]["amp"]["amplification"]
    ([0, 0.25, 0.5, 0.75, 1], 1.0)
    """
    if not isinstance(config, dict):
        raise ConfigError("the config must be a mapping of keys to values")
    _check(config, top_level_schema(), "")
    sections = {**{s: (config[s], r) for s, r in SECTIONS.items()},
                "evaluation.sets": (config["evaluation"]["sets"], DATASETS)}
    missing = []  # data the entries point to that is not there: all named in one message
    for section, (entries, registry) in sections.items():
        for name, entry in entries.items():
            missing += _entry_problems(section, name, entry, registry, check_files)
    missing += compatibility_problems(config)
    if check_files:
        missing += tool_problems(config) + adaptation_problems(config)
    if missing:
        raise ConfigError("\n".join(missing))
    for i, ratio in enumerate(config["ratios"]):
        if config["mixing"] == "append" and ratio >= 1:
            raise ConfigError(
                f"config key 'ratios.{i}': with mixing: append a ratio is the generated share "
                f"of a mix that keeps every real image, so it must be below 1 (0.5 adds as many "
                f"generated images as there are real ones, 0.8 four times as many)")
        if len(ratio_label(ratio)) > MAX_RATIO_LABEL:
            raise ConfigError(
                f"config key 'ratios.{i}': {ratio!r} is written {ratio_label(ratio)} in paths "
                f"(every ratio is written exactly); use at most {MAX_RATIO_LABEL - 2} decimals")
    for key in list(config):
        config[key] = canonical(config[key])
    return config


def compatibility_problems(config: dict) -> list[str]:
    """What the entries' schemas cannot see alone: a generator given a dataset it cannot
    render, a model whose batch (per process × processes) exceeds a dataset's training split."""
    from biasamp.interventions import problems as intervention_problems

    problems = []
    for name, generator in config["generators"].items():
        problems += intervention_problems(generator.get("intervention"),
                                          f"generators.{name}.intervention")
        allowed = GENERATORS.get(generator["kind"]).datasets
        for dataset, settings in config["datasets"].items():
            if allowed is not None and settings["kind"] not in allowed:
                problems.append(
                    f"config key 'generators.{name}.kind': a {generator['kind']} generator "
                    f"renders captions of {' or '.join(allowed)} datasets only, and dataset "
                    f"'{dataset}' is of kind {settings['kind']}; use another generator kind "
                    f"(e.g. diffusers) or another dataset")
        if config["rounds"] > 1 and GENERATORS.get(generator["kind"]).adapter is None:
            problems.append(
                f"config key 'rounds': feedback rounds adapt each generator to the previous "
                f"round's mix, and generator '{name}' (kind {generator['kind']}) cannot be "
                f"adapted; use rounds: 1, or a kind that adapts (toy, diffusers)")
    if config["rounds"] > 1 and max(config["ratios"]) == 0:
        problems.append("config key 'rounds': feedback rounds feed generated images back to "
                        "the generators, and with ratios [0] no mix holds any; add a ratio "
                        "above 0, or use rounds: 1")
    for dataset, settings in config["datasets"].items():
        size = DATASETS.get(settings["kind"]).train_size
        if size is None:
            continue
        for name, model in config["models"].items():
            processes = max(1, model["gpus"])
            if model["batch_size"] * processes > size(settings):
                problems.append(
                    f"config key 'models.{name}.batch_size': a batch of {model['batch_size']} "
                    f"per process × {processes} process(es) is more than the "
                    f"{size(settings)} training images of dataset '{dataset}'; lower it")
    return problems


def adaptation_problems(config: dict) -> list[str]:
    """Generators of a study with feedback rounds whose kind cannot adapt what they load (e.g.
    a diffusers pipeline that is not Stable Diffusion 1.x/2.x): said before round 1 runs."""
    import importlib

    if config["rounds"] < 2:
        return []
    problems = []
    for name, generator in config["generators"].items():
        adapter = GENERATORS.get(generator["kind"]).adapter
        check = getattr(importlib.import_module(adapter), "problems", None) if adapter else None
        problems += [f"config key 'generators.{name}.model': {message}"
                     for message in (check(generator) if check else [])]
    return problems


def tool_problems(config: dict) -> list[str]:
    """Programs outside Python the study's jobs will run: Java for the caption scorers when a
    model writes captions, and the jars SPICE needs when it is on."""
    from biasamp.metrics.captioning import requirement_problems

    if not any(writes_captions(model) for model in config["models"].values()):
        return []
    return requirement_problems(config["evaluation"]["caption_scorers"],
                                "evaluation.caption_scorers")


def check_yaml_file(path: str | os.PathLike) -> None:
    """Stop with the file, line and column of a YAML syntax error in ``path`` (Snakemake's
    own message names neither)."""
    try:
        with open(path, encoding="utf-8") as stream:
            yaml.safe_load(stream)
    except yaml.MarkedYAMLError as error:
        mark = error.problem_mark or error.context_mark
        where = f", line {mark.line + 1}, column {mark.column + 1}" if mark else ""
        raise ConfigError(f"{path}{where}: not valid YAML: {error.problem or error}; "
                          f"{error.context or ''}".rstrip("; ")) from None
    except (yaml.YAMLError, UnicodeDecodeError) as error:
        raise ConfigError(f"{path}: not a valid YAML file ({error})") from None


def main(argv: list[str] | None = None) -> int:
    """``python -m biasamp.config FILE...``: check study configs as the workflow would (YAML
    syntax, schemas, data files), e.g. before submitting a study to a cluster."""
    import sys

    paths = sys.argv[1:] if argv is None else argv
    if not paths:
        print("usage: python -m biasamp.config CONFIG.yaml...", file=sys.stderr)
        return 2
    failed = 0
    for path in paths:
        try:
            check_yaml_file(path)
            with open(path, encoding="utf-8") as stream:
                validate_config(yaml.safe_load(stream))
        except (ConfigError, OSError) as error:
            print(f"{path}: invalid:\n{error}", file=sys.stderr)
            failed += 1
        else:
            print(f"{path}: valid")
    return 1 if failed else 0


def canonical(value):
    """Mappings with sorted keys, recursively: a job's params (config slices) then compare equal
    whatever order the keys were written in, so reordering a config file reruns nothing."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value


if __name__ == "__main__":
    raise SystemExit(main())
