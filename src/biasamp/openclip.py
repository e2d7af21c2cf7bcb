"""Importing open_clip without the optional libraries a job does not use.

``import open_clip`` also imports transformers (for its CoCa ``generate`` and Hugging Face text
towers, about 0.6 s) and timm (for timm image towers, about 0.4 s), paid by every model job's
start-up. This project's captioners decode with their own beam search
(:mod:`biasamp.models.decoding`) and its architectures tokenise with open_clip's own tokenizer,
so transformers is needed only by an architecture whose text tower or tokenizer comes from
Hugging Face (``hf_model_name`` / ``hf_tokenizer_name`` in its ``text_cfg``), and timm only by
one whose image tower is a timm model (``timm_model_name`` in its ``vision_cfg``). open_clip
is imported with the others marked absent, which open_clip treats as optional libraries it does
without; a later architecture of the same process that needs one gets it (in-process studies
and plans meet several architectures).
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

OWN_CONFIGS = Path(__file__).resolve().parent / "model_configs"
# optional library of open_clip -> (config section, keys that make an architecture need it,
# the open_clip module that imports it once, at its own import, and keeps it as a global)
OPTIONAL = {"transformers": ("text_cfg", ("hf_model_name", "hf_tokenizer_name"),
                             "open_clip.hf_model"),
            "timm": ("vision_cfg", ("timm_model_name",), "open_clip.timm_model")}


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
            return {library for library, (section, keys, _) in OPTIONAL.items()
                    if any(config.get(section, {}).get(key) for key in keys)}
    return set(OPTIONAL)


def import_open_clip(arch: str | None = None) -> ModuleType:
    """``open_clip``, imported without the optional libraries ``arch`` does not need (see
    above). Where open_clip was imported earlier in this process without one that ``arch``
    needs (for another architecture), open_clip's module that uses it is reloaded with it."""
    needed = needed_libraries(arch)
    if "open_clip" not in sys.modules:
        blocked = [library for library in OPTIONAL
                   if library not in needed and library not in sys.modules]
        for library in blocked:
            sys.modules[library] = None  # open_clip's optional import finds it absent
        try:
            import open_clip  # noqa: F401
        finally:
            for library in blocked:
                del sys.modules[library]
    for library in sorted(needed):
        module = sys.modules.get(OPTIONAL[library][2])
        if module is not None and getattr(module, library, None) is None:
            if importlib.util.find_spec(library) is None:
                raise ImportError(f"architecture {arch} needs {library}, which is not "
                                  f"installed: pip install {library}")
            importlib.reload(module)  # its optional import now finds the library
    return sys.modules["open_clip"]
