"""Speed and memory of preparing the CC3M manifest, on synthetic webdataset shards.

Writes img2dataset-style shards (``{key}.jpg`` with placeholder bytes, ``{key}.txt``,
``{key}.json``; 10,000 samples per shard), then measures in one run:

  baseline   listing every member of every shard with tarfile (the I/O floor of any indexer);
  prepare    the cc3m dataset kind writing the manifest (in a subprocess, for its peak RSS);

and prints rows/s of both, their ratio, the time extrapolated to CC3M's 3,318,333 training
samples and the peak memory of prepare. Memory must not grow with the number of shards.

    python benchmarks/prepare_cc3m.py [--samples 331833] [--keep DIR]
"""

from __future__ import annotations

import argparse
import io
import json
import subprocess
import sys
import tarfile
import tempfile
import time
from pathlib import Path

CC3M_TRAIN = 3_318_333
PER_SHARD = 10_000

PREPARE = """
import resource, sys, time
from biasamp.datasets import prepare
start = time.perf_counter()
prepare({"kind": "cc3m", "train": sys.argv[1], "val": None, "test": sys.argv[2],
         "bad_images": "skip"}, sys.argv[3])
print(time.perf_counter() - start, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss)
"""


def add(tar: tarfile.TarFile, name: str, data: bytes) -> None:
    info = tarfile.TarInfo(name)
    info.size = len(data)
    tar.addfile(info, io.BytesIO(data))


def synthesize(folder: Path, samples: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    image = b"\xff\xd8\xff\xe0" + bytes(2000)  # size of a small thumbnail; never decoded
    for shard, start in enumerate(range(0, samples, PER_SHARD)):
        with tarfile.open(folder / f"{shard:05d}.tar", "w") as tar:
            for i in range(start, min(start + PER_SHARD, samples)):
                key = f"{i:09d}"
                add(tar, f"{key}.jpg", image)
                add(tar, f"{key}.txt", f"a man riding a bike down the street number {i}".encode())
                add(tar, f"{key}.json", json.dumps({"url": f"http://example/{i}.jpg",
                                                    "status": "success"}).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--samples", type=int, default=CC3M_TRAIN // 10)
    parser.add_argument("--keep", help="write the shards here and keep them")
    args = parser.parse_args()

    root = Path(args.keep or tempfile.mkdtemp(prefix="biasamp-cc3m-"))
    if not (root / "train").exists():
        synthesize(root / "train", args.samples)
        synthesize(root / "val", PER_SHARD)

    start = time.perf_counter()
    members = 0
    for shard in sorted((root / "train").glob("*.tar")) + sorted((root / "val").glob("*.tar")):
        with tarfile.open(shard) as tar:
            members += sum(1 for _ in tar)
    listing_s = time.perf_counter() - start
    rows = members // 3

    out = subprocess.run([sys.executable, "-c", PREPARE, str(root / "train"), str(root / "val"),
                          str(root / "manifest.parquet")], capture_output=True, text=True,
                         check=True).stdout.split()
    prepare_s, peak_kib = float(out[-2]), int(out[-1])

    print(f"{rows:,} samples in {rows // PER_SHARD + 1} shards")
    print(f"{'path':<28}{'rows/s':>12}{'seconds':>10}")
    print(f"{'tar listing (baseline)':<28}{rows / listing_s:>12,.0f}{listing_s:>10.1f}")
    print(f"{'cc3m prepare':<28}{rows / prepare_s:>12,.0f}{prepare_s:>10.1f}")
    print(f"ratio prepare / listing: {listing_s / prepare_s:.2f}")
    print(f"extrapolated to {CC3M_TRAIN:,} samples: {CC3M_TRAIN / (rows / prepare_s) / 60:.1f} "
          f"min; peak memory of prepare: {peak_kib / 1024:.0f} MiB")


if __name__ == "__main__":
    main()
