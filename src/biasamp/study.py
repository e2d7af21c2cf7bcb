"""How a study's grid (ratios × seeds, generation shards) is named and split, and which
training images each mix replaces."""

from __future__ import annotations

import math

import numpy as np

from biasamp.seeding import derive_seed


def ratio_label(ratio: float) -> str:
    """The contamination ratio as written in paths: the shortest positional decimal that reads
    back as exactly the same float, so a job that parses its path label gets the configured
    ratio (and replaces as many images as the generate stage planned for).

    >>> [ratio_label(r) for r in (0, 0.25, 1.0, 1e-05, 0.12152777708, 0.1 + 0.2)]
    ['0', '0.25', '1', '0.00001', '0.12152777708', '0.30000000000000004']
    >>> all(float(ratio_label(r)) == r for r in (0.1, 2 / 3, 1e-05))
    True
    """
    return np.format_float_positional(float(ratio), trim="-")


def shard_bounds(n_items: int, n_shards: int, shard: int) -> tuple[int, int]:
    """Rows [start, stop) of shard ``shard`` when ``n_items`` rows are cut into ``n_shards``.

    Contiguous blocks whose sizes differ by at most one; every row is in exactly one shard.

    >>> [shard_bounds(10, 3, k) for k in range(3)]
    [(0, 3), (3, 6), (6, 10)]
    """
    if not 0 <= shard < n_shards:
        raise ValueError(f"shard {shard} outside 0..{n_shards - 1}")
    return n_items * shard // n_shards, n_items * (shard + 1) // n_shards


# generation shards one image_factors job measures: a job per shard would add thousands of jobs
# of seconds each to a CC3M-sized study (and 14 s to its dry run)
SHARDS_PER_FACTOR_JOB = 100


def factor_blocks(n_shards: int) -> int:
    """The image_factors jobs of a generator with ``n_shards`` shards: one per block of
    :data:`SHARDS_PER_FACTOR_JOB` shards (:func:`block_shards`).

    >>> factor_blocks(2), factor_blocks(100), factor_blocks(3300)
    (1, 1, 33)
    """
    return -(-n_shards // SHARDS_PER_FACTOR_JOB)


def block_shards(block: int, n_shards: int) -> range:
    """The generation shards image_factors job ``block`` measures (see :func:`factor_blocks`).

    >>> block_shards(0, 2), block_shards(32, 3300)
    (range(0, 2), range(3200, 3300))
    """
    first = block * SHARDS_PER_FACTOR_JOB
    return range(first, min(first + SHARDS_PER_FACTOR_JOB, n_shards))


def n_replaced(n: int, ratio: float) -> int:
    """round(ratio × n), halves rounded up.

    >>> n_replaced(10, 0.25), n_replaced(4, 0.5), n_replaced(7, 1.0)
    (3, 2, 7)
    """
    return int(math.floor(ratio * n + 0.5))


def replaced_positions(
    n: int, ratio: float, seed: int, usable: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """Positions (into the id-ordered training rows) replaced at ``ratio`` for ``seed``, and
    how many were passed over because their generated image is not ``usable`` (withheld by a
    safety checker).

    The positions are the first round(ratio × n) usable ones in one seeded permutation, so a
    smaller ratio's set is a subset of a larger ratio's.
    """
    permutation = np.random.default_rng(derive_seed(seed, "mix")).permutation(n)
    wanted = n_replaced(n, ratio)
    if usable is None:
        return np.sort(permutation[:wanted]), 0
    ok = np.asarray(usable, dtype=bool)[permutation]
    chosen = permutation[ok][:wanted]
    walked = int(np.searchsorted(np.cumsum(ok), wanted) + 1) if wanted else 0
    return np.sort(chosen), int((~ok[:walked]).sum())


def generation_plan(ratios: list[float], seeds: list[int], withheld_possible: bool) -> str | dict:
    """Which training images the generate stage renders, as a job parameter.

    Only images some mix replaces are generated: the union, over the seeds, of the images
    replaced at the largest ratio (smaller ratios replace subsets of those). That is every
    image (``"all"``) when the largest ratio is 1, and also whenever generated images can be
    withheld (a safety checker): a withheld image is replaced by the next one in the seed's
    permutation, which cannot be known before generating.

    >>> generation_plan([0, 0.5, 1], [0, 1], False), generation_plan([0, 0.2], [1, 0], True)
    ('all', 'all')
    >>> generation_plan([0.2, 0, 0.1], [1, 0], False)
    {'max_ratio': 0.2, 'seeds': [0, 1]}
    """
    largest = max(ratios)
    if largest >= 1 or withheld_possible:
        return "all"
    return {"max_ratio": float(largest), "seeds": sorted(int(s) for s in seeds)}


def planned_positions(n: int, plan: str | dict) -> np.ndarray:
    """The positions (into the id-ordered training rows) that ``plan`` generates, sorted.

    >>> planned_positions(5, "all").tolist()
    [0, 1, 2, 3, 4]
    >>> len(planned_positions(100, {"max_ratio": 0.3, "seeds": [0]}))
    30
    """
    if plan == "all":
        return np.arange(n)
    chosen = [replaced_positions(n, plan["max_ratio"], seed)[0] for seed in plan["seeds"]]
    return np.unique(np.concatenate(chosen)) if chosen else np.arange(0)
