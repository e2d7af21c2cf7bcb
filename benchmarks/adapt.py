"""Throughput of a feedback round's LoRA adaptation against a bare LoRA training step, in one
run.

Builds the Stable Diffusion 1.5 architecture with random weights (timing does not depend on
weight values; see biasamp.generators.random_pipeline) and a mix of random PNG images, then
measures samples/s of

  baseline   the UNet's LoRA training step alone (forward, backward, AdamW) on latents and
             text states already in memory: what the GPU can do;
  project    DiffusersGenerator.adapt, the adapt job's path: images read from the mix and
             decoded, VAE-encoded and the captions text-encoded every step (float32);

and prints the ratio project / baseline (the cost of reading and encoding the mix on the fly).
Each is timed as the difference between a long and a short run, so loading the pipeline does
not count. `python -m biasamp.plan --rate adapt:NAME=N` takes the project figure.

    python benchmarks/adapt.py                                           # on one GPU
    python benchmarks/adapt.py --arch tiny --size 32 --steps 20 --mix 16   # CPU smoke
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
import pandas as pd
import torch
from PIL import Image

from biasamp.config import validate_entry
from biasamp.generators.diffusion import DiffusersGenerator, torch_device
from biasamp.generators.random_pipeline import build_pipeline
from biasamp.imagestore import WHOLE_FILE


def synchronize() -> None:
    if torch.cuda.is_available():
        torch.cuda.synchronize()


def timed(run) -> float:
    synchronize()
    start = time.perf_counter()
    run()
    synchronize()
    return time.perf_counter() - start


def random_mix(folder: Path, n: int, size: int) -> pd.DataFrame:
    rng = np.random.default_rng(0)
    rows = []
    for i in range(n):
        path = folder / f"image-{i}.png"
        Image.fromarray(rng.integers(0, 256, (size, size, 3), dtype=np.uint8)).save(path)
        rows.append({"id": f"i{i}", "split": "train", "source": "real",
                     "caption": f"a person riding a skateboard on the street, photo {i}",
                     "image_path": str(path), "image_offset": WHOLE_FILE,
                     "image_length": path.stat().st_size})
    return pd.DataFrame(rows)


def bare_step_rate(folder: str, settings: dict, steps: int) -> float:
    """Samples/s of the LoRA step alone, on latents and text states made once."""
    from diffusers import DDPMScheduler, DiffusionPipeline
    from peft import LoraConfig

    a, device = settings["adaptation"], torch_device(settings["gpus"])
    pipeline = DiffusionPipeline.from_pretrained(folder, dtype=torch.float32,
                                                 safety_checker=None,
                                                 requires_safety_checker=False)
    unet = pipeline.unet.to(device)
    unet.requires_grad_(False)
    unet.add_adapter(LoraConfig(r=a["rank"], lora_alpha=a["rank"],
                                init_lora_weights="gaussian", target_modules=a["target_modules"]))
    optimiser = torch.optim.AdamW([p for p in unet.parameters() if p.requires_grad],
                                  lr=a["learning_rate"])
    schedule = DDPMScheduler.from_config(pipeline.scheduler.config)
    scale = pipeline.vae_scale_factor
    latents = torch.randn(a["batch_size"], unet.config.in_channels,
                          settings["height"] // scale, settings["width"] // scale, device=device)
    hidden = torch.randn(a["batch_size"], pipeline.tokenizer.model_max_length,
                         unet.config.cross_attention_dim, device=device)

    def run(n):
        for _ in range(n):
            noise = torch.randn_like(latents)
            t = torch.randint(0, schedule.config.num_train_timesteps, (len(latents),),
                              device=device)
            predicted = unet(schedule.add_noise(latents, noise, t), t,
                             encoder_hidden_states=hidden).sample
            torch.nn.functional.mse_loss(predicted, noise).backward()
            optimiser.step()
            optimiser.zero_grad()

    run(2)  # warm-up
    short, long = timed(lambda: run(2)), timed(lambda: run(steps))
    return (steps - 2) * a["batch_size"] / (long - short)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--arch", default="sd15", choices=["sd15", "tiny"])
    parser.add_argument("--size", type=int, default=512)
    parser.add_argument("--batch-size", type=int, default=8)
    parser.add_argument("--steps", type=int, default=50, help="steps of the long run")
    parser.add_argument("--mix", type=int, default=256, help="images in the mix")
    args = parser.parse_args()

    gpu = torch.cuda.is_available()
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        build_pipeline(args.arch, folder / "sd")
        mix = random_mix(folder, args.mix, args.size)

        def settings(steps):
            return validate_entry("generators", "sd", {
                "kind": "diffusers", "model": str(folder / "sd"), "height": args.size,
                "width": args.size, "gpus": 1 if gpu else 0,
                "adaptation": {"steps": steps, "batch_size": args.batch_size, "rank": 8}})

        def adapt(steps):
            out = folder / f"adapter-{steps}"
            out.mkdir()
            return timed(lambda: DiffusersGenerator.adapt(settings(steps), mix, out, 0))

        short, long = adapt(2), adapt(args.steps)
        project = (args.steps - 2) * args.batch_size / (long - short)
        baseline = bare_step_rate(str(folder / "sd"), settings(args.steps), args.steps)

    device = torch.cuda.get_device_name() if gpu else f"CPU ({torch.get_num_threads()} threads)"
    print(f"LoRA adaptation, {args.arch} at {args.size}², batch {args.batch_size}, float32, "
          f"{device}:")
    print(f"  baseline (the LoRA step alone)       {baseline:8.2f} samples/s")
    print(f"  project  (DiffusersGenerator.adapt)  {project:8.2f} samples/s   "
          f"{project / baseline:.2f} × baseline")


if __name__ == "__main__":
    main()
