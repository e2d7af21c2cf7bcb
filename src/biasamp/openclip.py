"""Importing open_clip without what a job does not use.

``import open_clip`` also imports transformers (for its CoCa ``generate`` and Hugging Face text
towers), about 0.6 s of every model job's start-up. This project's captioners decode with their
own beam search (:mod:`biasamp.models.decoding`) and its architectures tokenise with open_clip's
own tokenizer, so transformers is needed only by an architecture whose text tower or tokenizer
comes from Hugging Face (``hf_model_name`` / ``hf_tokenizer_name`` in its config). For the
others, open_clip is imported with transformers marked absent, which open_clip treats as an
optional library it does without.
"""

from __future__ import annotations

import importlib.util
import json
import sys
from pathlib import Path
from types import ModuleType

OWN_CONFIGS = Path(__file__).resolve().parent / "model_configs"
HF_KEYS = ("hf_model_name", "hf_tokenizer_name")


def needs_transformers(arch: str | None) -> bool:
    """Whether architecture ``arch`` (a config of this package or of open_clip) has a Hugging
    Face text tower or tokenizer; an unknown name counts as needing it."""
    if arch is None:
        return False
    spec = importlib.util.find_spec("open_clip")  # locates the package without running it
    folders = [OWN_CONFIGS] + [Path(p) / "model_configs"
                               for p in (spec.submodule_search_locations or [])]
    for folder in folders:
        path = folder / f"{arch}.json"
        if path.is_file():
            text = json.loads(path.read_text()).get("text_cfg", {})
            return any(text.get(key) for key in HF_KEYS)
    return True


def import_open_clip(arch: str | None = None) -> ModuleType:
    """``open_clip``, imported without transformers unless ``arch`` needs it (see above)."""
    if "open_clip" in sys.modules or needs_transformers(arch) or "transformers" in sys.modules:
        import open_clip

        return open_clip
    sys.modules["transformers"] = None  # open_clip's optional import finds it absent
    try:
        import open_clip
    finally:
        del sys.modules["transformers"]
    return open_clip
