"""Throughput of the train stage against a bare open_clip training step, in one run.

  bare     open_clip's model, AdamW and loss on synthetic tensors already on the device:
           forward, backward, optimizer step under the chosen precision (the ceiling);
  project  the train stage's own path: open_clip_train driven by biasamp (run_trainer) on a
           mix manifest of real JPEG images in a tar archive, read by reference and decoded by
           the data loader's workers, one epoch; samples/s from the trainer's own log, the
           first logged interval (warm-up) left out.

Prints both and the ratio project / bare (target: at least 0.9, so data loading never starves
the GPU). Reference points on an H100, bare step, bf16: ViT-B-32 batch 512 = 3,850 samples/s,
RN50 batch 256 = 1,340, CoCa ViT-B-32 batch 256 = 910.

    python benchmarks/train.py --arch ViT-B-32 --batch-size 512 --workers 8      # one GPU
    python benchmarks/train.py --arch RN50 --batch-size 256 --workers 8
    python benchmarks/train.py --arch toy-ViT --batch-size 32 --images 512 --precision fp32
                                                                               # CPU smoke
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from biasamp import manifest
from biasamp.config import validate_config
from biasamp.imagestore import ShardWriter
from biasamp.models.open_clip_trainer import optimisers, register_model_configs, run_trainer


def synthetic_mix(folder: Path, n: int, size: int) -> Path:
    """``n`` distinct JPEG images (``size``²) with captions, as a mix manifest over a tar."""
    rng = np.random.default_rng(0)
    rows = []
    with ShardWriter(folder / "images.tar", "JPEG") as writer:
        for i in range(n):
            pixels = rng.integers(0, 256, (size // 8, size // 8, 3), dtype=np.uint8)
            image = Image.fromarray(pixels).resize((size, size), Image.BILINEAR)
            offset, length = writer.add(f"img{i}", image)
            rows.append({"id": f"img{i}", "split": "train", "source": "real",
                         "caption": f"a photo of thing number {i} in a room",
                         "image_path": str(folder / "images.tar"), "image_offset": offset,
                         "image_length": length})
    manifest.write(pd.DataFrame(rows), folder / "mix.parquet")
    return folder / "mix.parquet"


def bare_step(arch: str, batch: int, precision: str, device: str, steps: int) -> float:
    import open_clip

    model, _, _ = open_clip.create_model_and_transforms(arch, device=device)
    tokenizer = open_clip.get_tokenizer(arch)
    size = model.visual.image_size
    size = size[0] if isinstance(size, tuple | list) else size
    images = torch.randn(batch, 3, size, size, device=device)
    texts = tokenizer([f"a photo of thing number {i}" for i in range(batch)]).to(device)
    coca = "coca" in arch.lower()
    loss_fn = open_clip.CoCaLoss(2.0, 1.0) if coca else open_clip.ClipLoss()
    # the trainer's own AdamW for this device (fused on CPUs)
    optimizer = optimisers(device).AdamW(model.parameters(), lr=5e-4, weight_decay=0.2)
    dtype = {"amp_bf16": torch.bfloat16, "bf16": torch.bfloat16, "amp": torch.float16}.get(
        precision)
    autocast = torch.autocast(device.split(":")[0], dtype=dtype, enabled=dtype is not None)

    def step():
        with autocast:
            out = model(images, texts)
            losses = loss_fn(**out, output_dict=True) if coca else loss_fn(
                out[0], out[1], out[2])
            loss = sum(losses.values()) if isinstance(losses, dict) else losses
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()

    for _ in range(3):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    start = time.perf_counter()
    for _ in range(steps):
        step()
    if device.startswith("cuda"):
        torch.cuda.synchronize()
    return steps * batch / (time.perf_counter() - start)


def project_stage(arch: str, batch: int, precision: str, device: str, workers: int,
                  mix: Path, work: Path) -> float:
    entry = {"kind": "coca" if "coca" in arch.lower() else "clip", "arch": arch,
             "epochs": 1, "batch_size": batch, "precision": precision, "workers": workers,
             "warmup": 10, "gpus": 1 if device.startswith("cuda") else 0}
    config = validate_config({"datasets": {"d": {"kind": "toy"}},
                              "generators": {"g": {"kind": "toy"}}, "models": {"m": entry}})
    settings = config["models"]["m"]
    kind = "biasamp.models.coca:CoCa" if entry["kind"] == "coca" else "biasamp.models.clip:Clip"
    run_trainer(kind, settings, str(mix), str(work), 0, device, torch.get_num_threads())
    log = (work / "run" / "out.log").read_text()
    # "Batch (t): 0.153, 202.648/s, 101.324/s/gpu": samples/s over each logged interval
    rates = [float(r) for r in re.findall(r"Batch \(t\): [\d.]+, ([\d.]+)/s,", log)]
    if len(rates) < 2:
        raise SystemExit("too few logged intervals: raise --images")
    return float(np.mean(rates[1:]))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="ViT-B-32")
    parser.add_argument("--batch-size", type=int, default=512)
    parser.add_argument("--precision", default="amp_bf16")
    parser.add_argument("--workers", type=int, default=8)
    parser.add_argument("--images", type=int, default=None,
                        help="images in the synthetic mix (default: 30 batches)")
    parser.add_argument("--image-size", type=int, default=256, help="stored JPEG size")
    parser.add_argument("--steps", type=int, default=20, help="bare steps timed")
    args = parser.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    register_model_configs()
    n = args.images or 30 * args.batch_size
    with tempfile.TemporaryDirectory() as folder:
        mix = synthetic_mix(Path(folder), n, args.image_size)
        project = project_stage(args.arch, args.batch_size, args.precision, device,
                                args.workers, mix, Path(folder) / "trainer")
    bare = bare_step(args.arch, args.batch_size, args.precision, device, args.steps)
    name = torch.cuda.get_device_name() if device == "cuda" else "CPU"
    print(f"device: {name}; {args.arch}, batch {args.batch_size}, {args.precision}, "
          f"{args.workers} workers, {n} images of {args.image_size}²")
    print(f"{'bare open_clip step (synthetic)':<40}{bare:>10.1f} samples/s")
    print(f"{'train stage (real decoded images)':<40}{project:>10.1f} samples/s")
    print(f"ratio train stage / bare: {project / bare:.2f} (target >= 0.9)")


if __name__ == "__main__":
    main()
