"""Reading the files a study depends on, so that every failure names the file.

Parsers report what went wrong (``Parquet magic bytes not found``, ``invalid start byte``,
``Error tokenizing data``) but not in which file; a user with thousands of shards or a
hand-edited annotation file needs the path, and what to do about it. Every read of a user's
data file or of an intermediate file of the study goes through :func:`reading`.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

# What to do about a damaged file under results/: the workflow rebuilds what is missing.
REBUILD = "it is an intermediate file of the study: delete it and rerun snakemake to rebuild it"


class InputFileError(ValueError):
    """A file the study reads is missing, unreadable or malformed; the message names it."""


@contextmanager
def reading(path: str | os.PathLike, what: str = "file", hint: str = "") -> Iterator[None]:
    """Turn any failure while reading ``path`` (the body of the ``with``) into an
    :class:`InputFileError` that names the file, says what it is and, with ``hint``, what to do.

    >>> with reading("nowhere.json", "annotation file"):
    ...     open("nowhere.json").read()
    Traceback (most recent call last):
    ...
    biasamp.inputs.InputFileError: nowhere.json: the annotation file does not exist
    """
    suffix = f"; {hint}" if hint else ""
    try:
        yield
    except InputFileError:
        raise
    except FileNotFoundError:
        raise InputFileError(f"{path}: the {what} does not exist{suffix}") from None
    except Exception as error:  # parsers raise many types (ArrowInvalid, ParserError, ...)
        raise InputFileError(
            f"{path}: cannot read this {what} ({type(error).__name__}: "
            f"{' '.join(str(error).split())}){suffix}"
        ) from error


def read_json(path: str | os.PathLike, what: str = "JSON file", hint: str = ""):
    """The parsed content of a UTF-8 JSON file."""
    with reading(path, what, hint):
        return json.loads(Path(path).read_text(encoding="utf-8"))


def read_csv(path: str | os.PathLike, what: str = "CSV file", hint: str = "", **options):
    """``pandas.read_csv(path, **options)``, naming the file on failure."""
    import pandas as pd

    with reading(path, what, hint):
        return pd.read_csv(path, **options)
