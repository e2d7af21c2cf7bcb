"""Throughput of the evaluate stage's embeddings against a bare forward pass, in one run.

  bare     the model's image tower on synthetic tensors already on the device (the ceiling);
  project  the evaluate stage's own path (``Clip.encode_images``): JPEG images in a tar archive
           read by reference, decoded and preprocessed by DataLoader workers, embedded in
           batches under ``torch.inference_mode()`` and, on a GPU, autocast to the model's
           training precision; and the captions embedded likewise (``encode_texts``).

Prints images/s of both, their ratio (target: at least 0.9 on a GPU, so decoding never starves
it), captions/s, and what embedding one model's evaluation sets takes at that rate: COCO's 5k
test images with their 25,000 captions, and CC3M's validation images (15,840, one caption each).
Weights are random (nothing is downloaded); throughput does not depend on them.

    python benchmarks/evaluate.py --arch RN50 --threads 4 --workers 2        # CPU
    python benchmarks/evaluate.py --arch RN50 --workers 8 --batch-size 512   # one GPU
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import torch
from train import synthetic_mix

from biasamp import manifest
from biasamp.models.clip import Clip
from biasamp.models.open_clip_trainer import register_model_configs
from biasamp.openclip import import_open_clip

SETS = {"COCO 5k test": (5_000, 25_000), "CC3M validation": (15_840, 15_840)}


def bare_rate(model: Clip, batch: int, steps: int) -> float:
    size = model.model.visual.image_size
    size = size[0] if isinstance(size, tuple | list) else size
    images = torch.randn(batch, 3, size, size, device=model.device)
    with torch.inference_mode(), model.autocast():
        model.model.encode_image(images)
        synchronize(model.device)
        start = time.perf_counter()
        for _ in range(steps):
            model.model.encode_image(images)
        synchronize(model.device)
    return steps * batch / (time.perf_counter() - start)


def synchronize(device: str) -> None:
    if str(device).startswith("cuda"):
        torch.cuda.synchronize()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="RN50")
    parser.add_argument("--precision", default="amp", help="the training precision autocast "
                        "follows on a GPU (fp32 on a CPU)")
    parser.add_argument("--batch-size", type=int, default=64)
    parser.add_argument("--images", type=int, default=256)
    parser.add_argument("--image-size", type=int, default=256, help="stored JPEG size")
    parser.add_argument("--threads", type=int, default=4, help="torch threads (CPU)")
    parser.add_argument("--workers", type=int, default=2, help="decoding processes")
    parser.add_argument("--steps", type=int, default=4, help="bare batches timed")
    args = parser.parse_args()

    device = "cuda" if torch.cuda.is_available() else "cpu"
    torch.set_num_threads(args.threads)
    open_clip = import_open_clip(args.arch)
    register_model_configs()
    with tempfile.TemporaryDirectory() as folder:
        folder = Path(folder)
        weights = open_clip.create_model(args.arch).state_dict()
        torch.save({"arch": args.arch, "state_dict": weights,
                    "settings": {"precision": args.precision}}, folder / "model.pt")
        model = Clip.load(str(folder / "model.pt"), device)
        frame = manifest.read(synthetic_mix(folder, args.images, args.image_size))
        model.encode_images(frame.head(args.batch_size), args.batch_size, workers=0)  # warm-up
        start = time.perf_counter()
        model.encode_images(frame, args.batch_size, workers=args.workers)
        synchronize(device)
        project = len(frame) / (time.perf_counter() - start)
        captions = frame["caption"].tolist() * 4
        start = time.perf_counter()
        model.encode_texts(captions, args.batch_size)
        synchronize(device)
        texts = len(captions) / (time.perf_counter() - start)
        bare = bare_rate(model, args.batch_size, args.steps)
    name = torch.cuda.get_device_name() if device == "cuda" else (
        f"CPU, {torch.get_num_threads()} threads")
    print(f"device: {name}; {args.arch}, batch {args.batch_size}, "
          f"{args.precision if device == 'cuda' else 'fp32'}, {args.workers} workers, "
          f"{len(frame)} images of {args.image_size}²")
    print(f"{'bare image tower (synthetic tensors)':<44}{bare:>10.1f} images/s")
    print(f"{'evaluate stage (decoded images)':<44}{project:>10.1f} images/s")
    print(f"ratio evaluate stage / bare: {project / bare:.2f} (target >= 0.9 on a GPU)")
    print(f"{'captions':<44}{texts:>10.1f} captions/s")
    for name, (images, n_captions) in SETS.items():
        minutes = (images / project + n_captions / texts) / 60
        print(f"embedding {name} ({images:,} images, {n_captions:,} captions): "
              f"{minutes:.1f} min")


if __name__ == "__main__":
    main()
