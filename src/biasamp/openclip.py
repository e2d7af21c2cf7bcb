"""Importing open_clip without the optional libraries a job does not use.

``import open_clip`` also imports transformers (for its CoCa ``generate`` and Hugging Face text
towers, about 0.6 s) and timm (for timm image towers, about 0.4 s), paid by every model job's
start-up. This project's captioners decode with their own beam search
(:mod:`biasamp.models.decoding`) and its architectures tokenise with open_clip's own tokenizer,
so transformers is needed only by an architecture whose text tower or tokenizer comes from
Hugging Face (``hf_model_name`` / ``hf_tokenizer_name`` in its ``text_cfg``), and timm only by
one whose image tower is a timm model (``timm_model_name`` in its ``vision_cfg``). open_clip
is imported with the others marked absent, which open_clip treats as optional libraries it does
without.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

OWN_CONFIGS = Path(__file__).resolve().parent / "model_configs"
# optional library of open_clip -> (config section, keys that make an architecture need it)
OPTIONAL = {"transformers": ("text_cfg", ("hf_model_name", "hf_tokenizer_name")),
            "timm": ("vision_cfg", ("timm_model_name",))}


def needed_libraries(arch: str | None) -> set[str]:
    """Which of open_clip's :data:`OPTIONAL` libraries architecture ``arch`` (a config of this
    package or of open_clip) needs; an unknown name counts as needing them all."""
    if arch is None:
        return set()
    spec = importlib.util.find_spec("open_clip")  # locates the package without running it
    folders = [OWN_CONFIGS] + [Path(p) / "model_configs"
                               for p in (spec.submodule_search_locations or [])]
    for folder in folders:
        path = folder / f"{arch}.json"
        if path.is_file():
            config = json.loads(path.read_text())
            return {library for library, (section, keys) in OPTIONAL.items()
                    if any(config.get(section, {}).get(key) for key in keys)}
    return set(OPTIONAL)


def import_open_clip(arch: str | None = None) -> ModuleType:
    """``open_clip``, imported without the optional libraries ``arch`` does not need (see
    above). Stops with a clear error where open_clip was imported without one that ``arch``
    needs (an earlier architecture in the same process)."""
    needed = needed_libraries(arch)
    if "open_clip" in sys.modules:
        missing = sorted(library for library in needed if sys.modules.get(library) is None
                         and importlib.util.find_spec(library) is not None)
        if missing:
            raise RuntimeError(
                f"architecture {arch} needs {', '.join(missing)}, but open_clip was already "
                "imported without it in this process (for an architecture that does not); "
                "train or evaluate it in a process of its own")
        return sys.modules["open_clip"]
    blocked = [library for library in OPTIONAL
               if library not in needed and library not in sys.modules]
    for library in blocked:
        sys.modules[library] = None  # open_clip's optional import finds it absent
    try:
        import open_clip
    finally:
        for library in blocked:
            del sys.modules[library]
    return open_clip
