"""Throughput of the generate stage against a plain diffusers pipeline call, in one run.

Builds the Stable Diffusion 1.5 architecture with random weights (timing does not depend on
weight values; see biasamp.generators.random_pipeline), then measures images/s of

  baseline   StableDiffusionPipeline(...) called directly, fp16, batch 8 (the published
             code's setting), one shared torch.Generator;
  project    the project's generate path (DiffusersGenerator: per-image generators, the
             configured batch size, torch.compile + channels_last + fused QKV when --compile);

at 512², 50 steps, guidance 7.5, and prints the ratio project / baseline (target: at least
5.0 images/s per H100 in fp16, 1.75x the 2.8 images/s baseline), the achieved TFLOP/s (83 TFLOP
per image) and the compile time.

    python benchmarks/generate.py --batch-size 16 --compile          # on one GPU
    python benchmarks/generate.py --arch tiny --size 32 --steps 4 --dtype float32   # CPU smoke
"""

from __future__ import annotations

import argparse
import tempfile
import time

import torch

from biasamp.generators.diffusion import DiffusersGenerator
from biasamp.generators.random_pipeline import build_pipeline

TFLOP_PER_IMAGE = 83.0  # SD 1.5, 512², 50 steps, classifier-free guidance (DESIGN.md)


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def images_per_second(run, n_images: int) -> float:
    synchronize()
    start = time.perf_counter()
    run()
    synchronize()
    return n_images / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="sd15", choices=["sd15", "tiny"])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--steps", type=int, default=50)
    parser.add_argument("--dtype", default="float16")
    parser.add_argument("--batch-size", type=int, default=16, help="project path batch size")
    parser.add_argument("--baseline-batch-size", type=int, default=8)
    parser.add_argument("--images", type=int, default=64, help="images timed per path")
    parser.add_argument("--compile", action="store_true")
    args = parser.parse_args()

    gpu = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as folder:
        build_pipeline(args.arch, folder)
        settings = {
            "kind": "diffusers", "model": folder, "revision": None, "scheduler": "default",
            "steps": args.steps, "guidance": 7.5, "height": args.size, "width": args.size,
            "negative_prompt": "", "prompt_template": "{caption}", "dtype": args.dtype,
            "batch_size": args.batch_size, "compile": args.compile, "safety_checker": False,
            "gpus": 1 if gpu else 0, "shards": 1, "image_format": "PNG",
        }
        prompts = [f"a person riding a skateboard on the street, photo {i}"
                   for i in range(args.images)]

        project = DiffusersGenerator(settings)
        warm = time.perf_counter()  # the first batch pays for compilation
        list(project.generate(prompts[: args.batch_size], range(args.batch_size)))
        compile_s = time.perf_counter() - warm
        project_ips = images_per_second(
            lambda: list(project.generate(prompts, range(len(prompts)))), len(prompts))

        baseline = DiffusersGenerator({**settings, "compile": False}).pipeline
        b = args.baseline_batch_size

        def plain():
            for start in range(0, len(prompts), b):
                baseline(prompts[start:start + b], num_inference_steps=args.steps,
                         guidance_scale=7.5, height=args.size, width=args.size,
                         generator=torch.Generator(baseline.device).manual_seed(start))

        plain(), synchronize()  # warm-up
        baseline_ips = images_per_second(plain, len(prompts))

    device = torch.cuda.get_device_name() if gpu else "CPU"
    scale = TFLOP_PER_IMAGE * (args.size / 512) ** 2 * args.steps / 50
    print(f"device: {device}; {args.arch} {args.size}² {args.steps} steps {args.dtype}")
    print(f"{'path':<34}{'batch':>6}{'images/s':>10}{'TFLOP/s':>9}")
    print(f"{'plain diffusers call':<34}{b:>6}{baseline_ips:>10.2f}{baseline_ips * scale:>9.0f}")
    label = "project generate path" + (" (compiled)" if args.compile else "")
    print(f"{label:<34}{args.batch_size:>6}{project_ips:>10.2f}{project_ips * scale:>9.0f}")
    print(f"ratio project / plain: {project_ips / baseline_ips:.2f} (target >= 1.75 on an H100)")
    print(f"first batch (incl. compilation): {compile_s:.1f} s")


if __name__ == "__main__":
    main()
