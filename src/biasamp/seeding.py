"""Seeds derived from a global seed and a stable key (an image id, a shard, a replicate).

Python's ``hash`` is salted per process, so keys are hashed with BLAKE2b: the same
(seed, key) gives the same stream on every machine, in every process, in any order.
"""

from __future__ import annotations

import hashlib

import numpy as np


def derive_seed(seed: int, *keys: object) -> int:
    """A 63-bit seed determined by ``seed`` and ``keys`` only.

    >>> derive_seed(0, "toy-000001") == derive_seed(0, "toy-000001")
    True
    >>> derive_seed(0, "a") != derive_seed(1, "a")
    True
    """
    text = "\x1f".join([str(int(seed)), *map(str, keys)])
    digest = hashlib.blake2b(text.encode("utf-8"), digest_size=8).digest()
    return int.from_bytes(digest, "little") >> 1


def rng_for(seed: int, *keys: object) -> np.random.Generator:
    """An independent numpy generator for one (seed, key) pair."""
    return np.random.default_rng(derive_seed(seed, *keys))
