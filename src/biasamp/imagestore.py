"""Images by reference: many encoded images in one tar archive, located by byte offset.

A cluster file system copes badly with millions of small files, so every stage that makes
images (prepare for the toy world, generate) writes them into a few tar archives and records
each image's ``(image_path, image_offset, image_length)`` in the manifest. The archives are
plain tar files (``tar tf`` lists them, webdataset can stream them), and a reader seeks
straight to one image. An image stored as its own file (a COCO jpg) has offset -1.
"""

from __future__ import annotations

import io
import os
import tarfile
from pathlib import Path

from PIL import Image

WHOLE_FILE = -1


class ImageError(OSError):
    """An image cannot be read; the message names its file."""


class ShardWriter:
    """Write encoded images into ``path`` atomically.

    The archive is written under a temporary name and renamed on a clean exit, so a killed
    job never leaves a file that looks finished.

    >>> # with ShardWriter("shard.tar") as w: offset, length = w.add("id1", image)
    """

    def __init__(self, path: str | os.PathLike, image_format: str = "PNG"):
        self.path = Path(path)
        self.tmp = self.path.with_name(self.path.name + ".partial")
        self.image_format = image_format
        self.extension = {"PNG": "png", "JPEG": "jpg", "WEBP": "webp"}[image_format]
        self._tar: tarfile.TarFile | None = None

    def __enter__(self) -> ShardWriter:
        self.path.parent.mkdir(parents=True, exist_ok=True)
        self._tar = tarfile.open(self.tmp, "w", format=tarfile.USTAR_FORMAT)
        return self

    def add(self, key: str, image: Image.Image) -> tuple[int, int]:
        """Append one image; returns its (byte offset, byte length) inside the archive."""
        buffer = io.BytesIO()
        image.save(buffer, format=self.image_format)
        data = buffer.getvalue()
        # tar member names cannot hold '/' from ids such as "gen:x/y" safely
        info = tarfile.TarInfo(name=f"{key.replace('/', '_')}.{self.extension}")
        info.size = len(data)
        info.mtime = 0  # byte-identical archives for identical content
        offset = self._tar.offset + tarfile.BLOCKSIZE  # data follows the 512-byte header
        self._tar.addfile(info, io.BytesIO(data))
        return offset, len(data)

    def __exit__(self, exc_type, exc, tb) -> None:
        self._tar.close()
        if exc_type is None:
            os.replace(self.tmp, self.path)
        else:
            self.tmp.unlink(missing_ok=True)


class ImageReader:
    """Read images by reference, keeping archives open between reads (one reader per worker)."""

    def __init__(self, root: str | os.PathLike = "."):
        self.root = Path(root)
        self._handles: dict[str, object] = {}

    def read_bytes(self, path: str, offset: int, length: int) -> bytes:
        if int(offset) == WHOLE_FILE:
            return (self.root / path).read_bytes()
        handle = self._handles.get(path)
        if handle is None:
            handle = self._handles[path] = open(self.root / path, "rb")  # noqa: SIM115
        handle.seek(int(offset))
        data = handle.read(int(length))
        if len(data) != int(length):
            raise OSError(f"truncated archive, wanted {length} bytes at offset {offset}")
        return data

    def read(self, path: str, offset: int, length: int) -> Image.Image:
        """The image at ``(path, offset, length)``, decoded; a missing file, a short archive
        or undecodable data is an :class:`ImageError` naming the file (and offset)."""
        where = path if int(offset) == WHOLE_FILE else f"{path} (image at byte {offset})"
        try:
            with Image.open(io.BytesIO(self.read_bytes(path, offset, length))) as image:
                return image.convert("RGB")
        except Exception as error:  # PIL raises many types for corrupt data
            raise ImageError(f"{where}: cannot read the image ({type(error).__name__}: "
                             f"{error}); repair or replace the file, or rebuild it if it is "
                             "an output of the study (delete it and rerun)") from error

    def close(self) -> None:
        for handle in self._handles.values():
            handle.close()
        self._handles.clear()

    def __getstate__(self):
        # DataLoader workers get a fresh reader: open file handles do not cross processes
        return {"root": self.root, "_handles": {}}


def image_problem(path: str | os.PathLike) -> str | None:
    """Why the image file at ``path`` cannot be used (missing, unreadable, corrupt), or None.

    The file is decoded completely: PIL's ``verify`` checks a file's structure but not its
    compressed data, so a truncated JPEG passes it and fails only when training reads it.
    JPEGs are decoded at 1/8 scale (``draft``), which reads all their data at a fraction of the
    cost.
    """
    try:
        with Image.open(path) as image:
            image.verify()
        with Image.open(path) as image:  # verify leaves the image unusable: open it again
            image.draft(image.mode, (1, 1))
            image.load()
    except FileNotFoundError:
        return "missing"
    except Exception as error:  # PIL raises many types for corrupt data
        return f"unreadable ({type(error).__name__}: {error})"
    return None
