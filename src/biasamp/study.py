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


def round_segment(round_number: int) -> str:
    """A feedback round as written in paths, after the generator's name: nothing for round 1
    (a study without rounds keeps its paths), ``/round~r`` for later ones.

    >>> round_segment(1), round_segment(3)
    ('', '/round~3')
    """
    return "" if int(round_number) == 1 else f"/round~{int(round_number)}"


def round_number(segment: str) -> int:
    """The round a path segment of :func:`round_segment` names.

    >>> round_number(""), round_number("/round~3")
    (1, 3)
    """
    return int(segment.rsplit("~", 1)[1]) if segment else 1


# round 2 and later; round 1 is written as nothing
ROUND_SEGMENT = r"(/round~([2-9]|[1-9][0-9]+))?"


def study_rounds(rounds: int, ratios: list[float]) -> list[tuple[int, list[float]]]:
    """``(round, its ratios)`` of a study: every ratio in round 1, the nonzero ones later (a
    ratio-0 mix holds no generated image, so it is the same in every round; it is trained once
    and its measurements stand for every round's baseline).

    >>> study_rounds(3, [0, 0.5, 1])
    [(1, [0, 0.5, 1]), (2, [0.5, 1]), (3, [0.5, 1])]
    """
    return [(r, list(ratios) if r == 1 else [x for x in ratios if x > 0])
            for r in range(1, int(rounds) + 1)]


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


def n_appended(n: int, ratio: float) -> int:
    """Generated images an ``append`` mix adds to ``n`` real ones so that they are the share
    ``ratio`` of the result: round(ratio × n / (1 − ratio)), halves rounded up.

    >>> n_appended(100, 0.2), n_appended(100, 0.5), n_appended(3, 0.75), n_appended(10, 0)
    (25, 100, 9, 0)
    """
    if not 0 <= ratio < 1:
        raise ValueError(f"an append mix needs 0 <= ratio < 1, not {ratio}")
    return int(math.floor(ratio * n / (1 - ratio) + 0.5))


def mix_size(n: int, ratio: float, mixing: str) -> int:
    """Images in a mix of ``n`` real training images (every mode but ``append`` keeps n).

    >>> mix_size(100, 0.5, "replace"), mix_size(100, 0.5, "append")
    (100, 200)
    """
    return n + n_appended(n, ratio) if mixing == "append" else n


def _first_usable(order: np.ndarray, ok: np.ndarray, wanted: int) -> tuple[np.ndarray, int]:
    """The first ``wanted`` items of ``order`` whose ``ok`` is true, and how many were passed
    over on the way."""
    chosen = order[ok][:wanted]
    walked = int(np.searchsorted(np.cumsum(ok), wanted) + 1) if wanted else 0
    return chosen, int((~ok[:walked]).sum())


def _permutation(n: int, seed: int, variant: int = 0) -> np.ndarray:
    """The seed's order of the training images: the one ``replace`` walks, and the order of
    the ``variant``-th generated image of each caption for ``append`` (variant 0 walks the
    same order, so its images are those ``replace`` would use)."""
    keys = ("mix",) if variant == 0 else ("mix", variant)
    return np.random.default_rng(derive_seed(seed, *keys)).permutation(n)


def replaced_positions(
    n: int, ratio: float, seed: int, usable: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """Positions (into the id-ordered training rows) replaced at ``ratio`` for ``seed``, and
    how many were passed over because their generated image is not ``usable`` (withheld by a
    safety checker).

    The positions are the first round(ratio × n) usable ones in one seeded permutation, so a
    smaller ratio's set is a subset of a larger ratio's.
    """
    permutation = _permutation(n, seed)
    wanted = n_replaced(n, ratio)
    if usable is None:
        return np.sort(permutation[:wanted]), 0
    chosen, passed = _first_usable(permutation, np.asarray(usable, dtype=bool)[permutation],
                                   wanted)
    return np.sort(chosen), passed


def bernoulli_positions(
    n: int, ratio: float, seed: int, usable: np.ndarray | None = None
) -> tuple[np.ndarray, int]:
    """Positions a ``bernoulli`` mix replaces: each independently with probability ``ratio``
    (one seeded uniform draw u per image, replaced when u < ratio, so the sets are nested
    across ratios), and how many of them stay real because their generated image is not
    ``usable``.

    >>> len(bernoulli_positions(1000, 0.0, 0)[0]), len(bernoulli_positions(1000, 1.0, 0)[0])
    (0, 1000)
    """
    draws = np.random.default_rng(derive_seed(seed, "bernoulli")).random(n)
    chosen = draws < ratio
    if usable is None:
        return np.flatnonzero(chosen), 0
    ok = np.asarray(usable, dtype=bool)
    return np.flatnonzero(chosen & ok), int((chosen & ~ok).sum())


def appended_items(
    n: int, ratio: float, seed: int, usable: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """The generated images an ``append`` mix adds, as (positions of their prompts' training
    images, variants), and how many were passed over as not ``usable`` (shape: variants × n).

    A mix needs n_appended(n, ratio) images, so up to ceil(that / n) per caption: the
    variant-0 images in the seed's permutation come first, then the variant-1 images in
    their own permutation, and so on; each mix takes a prefix of that order (nested across
    ratios). ``usable`` rows beyond the first few extend the order, for walking past withheld
    images.

    >>> positions, variants, _ = appended_items(4, 0.75, 0)
    >>> len(positions), sorted(variants.tolist())
    (12, [0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2])
    """
    wanted = n_appended(n, ratio)
    variants = max(-(-wanted // n) if n else 0, 0 if usable is None else len(usable))
    order = np.concatenate([_permutation(n, seed, v) + v * n for v in range(variants)]) \
        if variants else np.arange(0)
    if usable is None:
        chosen, passed = order[:wanted], 0
    else:
        ok = np.asarray(usable, dtype=bool).reshape(-1)
        ok = np.concatenate([ok, np.ones(variants * n - len(ok), dtype=bool)])
        chosen, passed = _first_usable(order, ok[order], wanted)
    chosen = np.sort(chosen)
    return chosen % max(n, 1), chosen // max(n, 1), passed


def mixed_items(
    mixing: str, n: int, ratio: float, seed: int, usable: np.ndarray | None = None
) -> tuple[np.ndarray, np.ndarray, int]:
    """The generated images a mix of mode ``mixing`` uses, as (positions of their prompts'
    training images, variants), and how many were passed over as not ``usable`` (shape:
    variants × n; only variant 0 matters but for ``append``)."""
    if mixing == "append":
        return appended_items(n, ratio, seed, usable)
    first = None if usable is None else np.asarray(usable, dtype=bool).reshape(-1, n)[0]
    pick = bernoulli_positions if mixing == "bernoulli" else replaced_positions
    positions, passed = pick(n, ratio, seed, first)
    return positions, np.zeros(len(positions), dtype=int), passed


def generation_plan(ratios: list[float], seeds: list[int], withheld_possible: bool,
                    mixing: str = "replace") -> str | dict:
    """Which training images the generate stage renders, as a job parameter.

    Only images some mix uses are generated: the union, over the seeds, of the images used at
    the largest ratio (smaller ratios use subsets of those). That is every image (``"all"``)
    when the largest ratio replaces all, and also whenever generated images can be withheld
    (a safety checker): a withheld image is replaced by the next one in the seed's order,
    which cannot be known before generating (``append`` then renders every caption once more
    than its largest mix needs, so that a mix can walk on past withheld images; ``bernoulli``
    leaves the real image in place and needs no more).

    >>> generation_plan([0, 0.5, 1], [0, 1], False), generation_plan([0, 0.2], [1, 0], True)
    ('all', 'all')
    >>> generation_plan([0.2, 0, 0.1], [1, 0], False)
    {'max_ratio': 0.2, 'seeds': [0, 1]}
    >>> generation_plan([0, 0.6], [0], True, "append")
    {'max_ratio': 0.6, 'seeds': [0], 'mixing': 'append', 'withheld_possible': True}
    """
    largest = max(ratios)
    plan = {"max_ratio": float(largest), "seeds": sorted(int(s) for s in seeds)}
    if mixing == "append":
        return {**plan, "mixing": mixing, "withheld_possible": bool(withheld_possible)}
    # a bernoulli mix leaves the real image of a withheld one: it never walks on
    if largest >= 1 or (withheld_possible and mixing == "replace"):
        return "all"
    return plan if mixing == "replace" else {**plan, "mixing": mixing}


def planned_items(n: int, plan: str | dict) -> tuple[np.ndarray, np.ndarray]:
    """The generated images ``plan`` renders from ``n`` training images, as (positions into
    the id-ordered training rows, variants), sorted by position then variant.

    >>> planned_items(3, "all")
    (array([0, 1, 2]), array([0, 0, 0]))
    >>> len(planned_items(100, {"max_ratio": 0.3, "seeds": [0]})[0])
    30
    >>> positions, variants = planned_items(10, {"max_ratio": 0.6, "seeds": [0],
    ...     "mixing": "append", "withheld_possible": False})
    >>> len(positions), int(variants.max())
    (15, 1)
    """
    if plan == "all":
        return np.arange(n), np.zeros(n, dtype=int)
    mixing, width = plan.get("mixing", "replace"), max(n, 1)
    if mixing == "append" and plan["withheld_possible"]:  # one spare image per caption
        keys = np.arange((-(-n_appended(n, plan["max_ratio"]) // width) + 1) * n)
    else:  # an image is the key variant × n + position
        keys = [np.arange(0)]
        for seed in plan["seeds"]:
            positions, variants, _ = mixed_items(mixing, n, plan["max_ratio"], seed)
            keys.append(variants * n + positions)
        keys = np.unique(np.concatenate(keys))
    positions, variants = keys % width, keys // width
    order = np.lexsort((variants, positions))
    return positions[order], variants[order]
