"""Name → entry tables: dataset, generator and model kinds (selected by ``kind:`` in the
config), metric suites and figures.

Each registry belongs to a package and finds its entries itself: on first use it imports every
module of that package, and each module registers what it defines (as open_clip finds every
model config in its folder). Adding a kind, a suite or a figure is one module; no import line
elsewhere must be remembered. Kind entries carry a JSON schema for their settings, so a config
is fully validated before any job runs, and the capabilities the workflow asks about.
"""

from __future__ import annotations

import importlib
import pkgutil
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True)
class Kind:
    """A dataset, generator or model kind."""

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
    # dataset kinds: images per split as the dataset is published, and the source saying so
    # (None: unknown until prepared); ``python -m biasamp.plan`` sizes a study with it before
    # the data is fetched
    published_sizes: Callable[[dict], tuple[dict[str, int], str]] | None = None
    # dataset kinds: its images have captions (False: labelled images only, as FairFace; only
    # the caption-free measures apply, e.g. the harmful-label audit)
    captions: bool = True
    # generator kinds: the dataset kinds whose captions it can render (None: any)
    datasets: tuple[str, ...] | None = None
    # generator kinds: the module whose ``adapt(settings, mix, out, seed)`` adapts the kind to
    # a training mix in feedback rounds (None: it cannot be adapted), and may define
    # ``problems(settings) -> [message]`` for entries it cannot adapt. A module of its own
    # where adapting is heavy code: editing it then reruns no round-1 generation
    adapter: str | None = None

    @property
    def module(self) -> str:
        """The module that defines the entry (its code fingerprint starts there)."""
        return self.implementation.__module__


class Registry:
    """Entries of one type (``entry``, a dataclass with ``name`` and ``implementation``) found
    in the modules of ``package``."""

    def __init__(self, what: str, package: str, entry: type = Kind):
        self.what = what  # e.g. "generator", used in error messages
        self.package = package
        self.entry = entry
        self._entries: dict[str, Any] = {}
        self._discovered = False

    def register(self, name: str, **fields) -> Callable:
        """Decorator: ``@GENERATORS.register("toy", schema=...)`` on a class or function; the
        keyword arguments are the entry's further fields."""

        def decorate(implementation):
            if name in self._entries:
                raise ValueError(f"{self.what} {name!r} is registered twice")
            self._entries[name] = self.entry(name=name, implementation=implementation, **fields)
            return implementation

        return decorate

    def _discover(self) -> None:
        """Import every module of the package once (each registers its entries)."""
        if self._discovered:
            return
        self._discovered = True
        package = importlib.import_module(self.package)
        for module in pkgutil.iter_modules(package.__path__):
            importlib.import_module(f"{self.package}.{module.name}")

    def __contains__(self, name: str) -> bool:
        self._discover()
        return name in self._entries

    def __iter__(self) -> Iterator[Any]:
        """The entries, by name."""
        self._discover()
        return iter([self._entries[n] for n in sorted(self._entries)])

    def names(self) -> list[str]:
        self._discover()
        return sorted(self._entries)

    def get(self, name: str):
        self._discover()
        try:
            return self._entries[name]
        except KeyError:
            raise KeyError(
                f"unknown {self.what} {name!r}; known: {', '.join(self.names())}"
            ) from None
