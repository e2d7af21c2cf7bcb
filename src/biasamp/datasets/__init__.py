"""Dataset kinds: each turns a source into the canonical manifest (see biasamp.manifest).

A kind is a function ``prepare(settings, manifest_path)`` registered under its name; it writes
the manifest (and any image archives beside it) for all splits.
"""

from biasamp.registry import Registry

DATASETS = Registry("dataset")

from biasamp.datasets import toy  # noqa: E402,F401  (registers the kind)


def prepare(settings: dict, manifest_path: str) -> None:
    """Prepare the dataset described by one ``datasets.NAME`` config entry."""
    DATASETS.get(settings["kind"]).implementation(settings, manifest_path)
