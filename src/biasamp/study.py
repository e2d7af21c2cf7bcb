"""How a study's grid (ratios × seeds, generation shards) is named and split."""

from __future__ import annotations


def ratio_label(ratio: float) -> str:
    """The contamination ratio as written in paths and tables.

    >>> [ratio_label(r) for r in (0, 0.25, 1.0, 0.1 + 0.2)]
    ['0', '0.25', '1', '0.3']
    """
    return f"{float(ratio):g}"


def shard_bounds(n_items: int, n_shards: int, shard: int) -> tuple[int, int]:
    """Rows [start, stop) of shard ``shard`` when ``n_items`` rows are cut into ``n_shards``.

    Contiguous blocks whose sizes differ by at most one; every row is in exactly one shard.

    >>> [shard_bounds(10, 3, k) for k in range(3)]
    [(0, 3), (3, 6), (6, 10)]
    """
    if not 0 <= shard < n_shards:
        raise ValueError(f"shard {shard} outside 0..{n_shards - 1}")
    return n_items * shard // n_shards, n_items * (shard + 1) // n_shards
