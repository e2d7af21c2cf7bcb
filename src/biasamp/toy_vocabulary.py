"""The toy world's tokenizer: BPE merges learned on its words, in open_clip's file format.

A toy captioner with open_clip's 49,408-token vocabulary would spend its CPU time on an output
layer it never uses; with these merges every toy word is one token (about 620 in all). A model
config names the vocabulary ``"bpe_path": "toy-world"``; the trainer fills in this file.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

from biasamp.atomic import atomic_path

TOY_VOCABULARY = "toy-world"  # stands for the toy world's tokenizer in a model config


def toy_merges() -> list[tuple[str, str]]:
    """BPE merges learned on the toy world's words, until every word is one token.

    Learned as BPE is (repeatedly merge the most frequent adjacent pair; ties broken by the
    pair itself, so the result is fixed), hence applying them in order spells each toy word as
    one token. With the 512 byte tokens of open_clip's tokenizer they make a vocabulary of about
    620 tokens instead of 49,408, so a toy captioner's output layer is small enough to train on
    a CPU in seconds. Any other text still tokenizes (into shorter pieces, down to bytes).
    """
    from collections import Counter

    from biasamp import toyworld

    phrases = [*toyworld.GENDER_WORDS.values(), toyworld.NEUTRAL_WORD, "a an in shirt",
               *toyworld.SHIRTS, *toyworld.ACTIVITIES, *toyworld.PLACES]
    words = [(*w[:-1], w[-1] + "</w>") for w in sorted({w for p in phrases for w in p.split()})]
    merges = []
    while any(len(w) > 1 for w in words):
        pairs = Counter(pair for w in words for pair in zip(w, w[1:], strict=False))
        best = min(pairs, key=lambda pair: (-pairs[pair], pair))
        merges.append(best)
        merged = []
        for w in words:
            out, i = [], 0
            while i < len(w):
                if w[i:i + 2] == best:
                    out.append(best[0] + best[1])
                    i += 2
                else:
                    out.append(w[i])
                    i += 1
            merged.append(tuple(out))
        words = merged
    return merges


def private_cache() -> Path:
    """This user's cache folder for files derived from the package (``$XDG_CACHE_HOME/biasamp``
    or ``~/.cache/biasamp``), readable by the user alone."""
    base = Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache")
    folder = base / "biasamp"
    folder.mkdir(parents=True, exist_ok=True, mode=0o700)
    return folder


def vocabulary_file() -> tuple[Path, int]:
    """The toy BPE merges as open_clip's tokenizer reads them (gzip, a header line), and the
    vocabulary size they give.

    The file lives in this user's private cache under a name holding the digest of its content,
    and its content is checked on every use: a file that is not exactly what the merges give
    (torn, edited, planted) is written anew, never trusted.
    """
    import gzip

    merges = toy_merges()
    # no newline at the end: the tokenizer would read an empty last line as a merge
    text = "\n".join(["#version: 0.2", *(f"{a} {b}" for a, b in merges)]).encode()
    digest = hashlib.sha256(text).hexdigest()[:16]
    path = private_cache() / f"toy-bpe-{digest}.txt.gz"
    try:
        current = gzip.decompress(path.read_bytes())
    except (OSError, EOFError):
        current = None
    if current != text:
        with atomic_path(path, unique=True) as partial, open(partial, "wb") as raw, \
                gzip.GzipFile(fileobj=raw, mode="wb", mtime=0) as out:
            out.write(text)
    from biasamp.openclip import import_open_clip

    tokenizer = import_open_clip().tokenizer.SimpleTokenizer(bpe_path=str(path))
    return path, max(tokenizer.encoder.values()) + 1
