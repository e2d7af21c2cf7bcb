"""Validate a study config against its JSON schemas and fill in defaults.

The top level is checked against ``schemas/config.schema.yaml``; each dataset, generator and
model entry is then checked against the schema of its ``kind`` from the registry. Errors name
the config key (``generators.toy.amplification``) and say what is allowed, so a bad config stops
the run before any job starts.
"""

from __future__ import annotations

import copy
from importlib import resources

import yaml
from jsonschema import Draft202012Validator, validators

from biasamp.datasets import DATASETS
from biasamp.generators import GENERATORS
from biasamp.models import MODELS
from biasamp.study import ratio_label

SECTIONS = {"datasets": DATASETS, "generators": GENERATORS, "models": MODELS}


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


def validate_config(config: dict) -> dict:
    """Validate ``config`` in place (filling defaults) and return it.

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
            kind = entry["kind"]
            if kind not in registry:
                raise ConfigError(
                    f"config key '{section}.{name}.kind': unknown {registry.what} kind {kind!r}; "
                    f"known kinds: {', '.join(registry.names())}"
                )
            spec = registry.get(kind)
            schema = copy.deepcopy(spec.schema)
            schema.setdefault("properties", {})["kind"] = {"const": kind}
            _check(entry, schema, f"{section}.{name}")
            missing += [f"config key '{section}.{name}.{key}': {message}"
                        for key, message in (spec.check(entry) if spec.check else [])]
    if missing:
        raise ConfigError("\n".join(missing))
    labels = [ratio_label(r) for r in config["ratios"]]
    if len(set(labels)) != len(labels):
        raise ConfigError(f"config key 'ratios': values {labels} collide once written in paths")
    for key in list(config):
        config[key] = canonical(config[key])
    return config


def canonical(value):
    """Mappings with sorted keys, recursively: a job's params (config slices) then compare equal
    whatever order the keys were written in, so reordering a config file reruns nothing."""
    if isinstance(value, dict):
        return {k: canonical(value[k]) for k in sorted(value)}
    if isinstance(value, list):
        return [canonical(v) for v in value]
    return value
