"""Atomic writes: a file is either complete or absent, never half-written.

Every output is written under a temporary name beside its final path and renamed when complete
(a rename within a folder is atomic), so a job killed mid-write leaves nothing that looks
finished, and a rerun redoes only the file in flight.
"""

from __future__ import annotations

import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path


@contextmanager
def atomic_path(path: str | os.PathLike, unique: bool = False) -> Iterator[Path]:
    """A temporary path to write ``path`` to: renamed to ``path`` when the block ends, removed
    if it raises. ``unique`` adds the process id, for files several processes may write at
    once.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_path(folder / "out.txt") as tmp:
    ...     _ = tmp.write_text("done")
    >>> sorted(p.name for p in folder.iterdir())
    ['out.txt']
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f"{path.name}.{os.getpid()}.partial" if unique else
                         f"{path.name}.partial")
    try:
        yield tmp
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    os.replace(tmp, path)


@contextmanager
def atomic_dir(path: str | os.PathLike) -> Iterator[Path]:
    """A temporary folder to fill in place of the folder ``path``: renamed to ``path`` when
    the block ends (replacing an older one), removed if it raises.

    >>> import tempfile
    >>> folder = Path(tempfile.mkdtemp())
    >>> with atomic_dir(folder / "out") as tmp:
    ...     _ = (tmp / "a.txt").write_text("done")
    >>> sorted(str(p.relative_to(folder)) for p in folder.rglob("*"))
    ['out', 'out/a.txt']
    """
    import shutil

    path = Path(path)
    tmp = path.with_name(f"{path.name}.partial")
    shutil.rmtree(tmp, ignore_errors=True)  # left by a killed job
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    if path.exists():
        shutil.rmtree(path)
    os.replace(tmp, path)
