"""Name → implementation tables, selected by ``kind:`` in the config.

Datasets, generators and models each have one registry; adding a kind is one module that
registers itself and one config entry. Each entry carries a JSON schema for its settings, so
a config is fully validated before any job runs.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Kind:
    name: str
    implementation: Any
    schema: dict = field(default_factory=dict)  # JSON schema of the entry's settings
    # checks a schema cannot say; returns a problem per offending key (key, message)
    check: Callable[[dict], list[tuple[str, str]]] | None = None
    # dataset kinds: writes its images into an archive beside its manifest (the workflow
    # declares it as an output), rather than referencing the user's files in place
    archive: bool = False
    # dataset kinds: the number of training images, where the settings fix it (None: known
    # only once prepared); validation checks every model's batch against it
    train_size: Callable[[dict], int] | None = None
    # generator kinds: the dataset kinds whose captions it can render (None: any)
    datasets: tuple[str, ...] | None = None


class Registry:
    def __init__(self, what: str):
        self.what = what  # e.g. "generator", used in error messages
        self._kinds: dict[str, Kind] = {}

    def register(self, name: str, schema: dict, check: Callable | None = None,
                 **capabilities) -> Callable:
        """Decorator: ``@GENERATORS.register("toy", schema=...)`` on a class or function;
        ``capabilities`` are the further fields of :class:`Kind`."""

        def decorate(implementation):
            if name in self._kinds:
                raise ValueError(f"{self.what} kind {name!r} is registered twice")
            self._kinds[name] = Kind(name, implementation, schema, check, **capabilities)
            return implementation

        return decorate

    def __contains__(self, name: str) -> bool:
        return name in self._kinds

    def names(self) -> list[str]:
        return sorted(self._kinds)

    def get(self, name: str) -> Kind:
        try:
            return self._kinds[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.what} kind {name!r}; known kinds: {', '.join(self.names())}"
            ) from None
