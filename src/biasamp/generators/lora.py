"""Feedback rounds for diffusers generators: LoRA fine-tuning of the UNet on a training mix.

In round r of a chain (``rounds``), the generator is adapted to the chain's round r − 1 mix:
LoRA adapters (peft) on the UNet's attention projections are trained with the denoising loss
the model was trained with, from the base weights each round, and saved in diffusers' LoRA
format; :class:`biasamp.generators.diffusion.DiffusersGenerator` loads and fuses them. This
code is a module of its own (the kind's ``adapter``), so editing it re-adapts without
regenerating round 1's images. Stable Diffusion 1.x and 2.x pipelines (one UNet, one CLIP
text encoder) only.
"""

from __future__ import annotations

import json
import logging
from pathlib import Path

from biasamp.generators.diffusion import LORA_FILE, model_location, torch_device

log = logging.getLogger(__name__)

ADAPTABLE = ("StableDiffusionPipeline",)  # one UNet conditioned on one text encoder


def problems(settings: dict) -> list[str]:
    """Why the entry's pipeline cannot be adapted (a pipeline class other than Stable
    Diffusion 1.x/2.x), where its folder is there to tell."""
    folder = model_location(settings["model"], settings["revision"])
    if folder is None:
        return []
    name = json.loads((folder / "model_index.json").read_text()).get("_class_name")
    if name in ADAPTABLE:
        return []
    return [f"feedback rounds fine-tune a {' or '.join(ADAPTABLE)} (one UNet, one text "
            f"encoder) with LoRA, and {settings['model']} is a {name}; use rounds: 1 with it"]


def adapt(settings: dict, mix, out: Path, seed: int) -> None:
    """Fine-tune LoRA adapters of the UNet on a training mix (its images and captions, through
    the generator's ``prompt_template``) with :func:`denoising_loss`, from the base weights,
    and save them in diffusers' LoRA format into ``out``, with the losses (adaptation.json).
    Batches, noise and timesteps are drawn by ``seed``."""
    import numpy as np
    import torch
    from diffusers import DDPMScheduler, DiffusionPipeline, StableDiffusionPipeline
    from diffusers.utils import convert_state_dict_to_diffusers
    from peft import LoraConfig
    from peft.utils import get_peft_model_state_dict

    a, device = settings["adaptation"], torch_device(settings["gpus"])
    torch.manual_seed(seed)
    pipeline = DiffusionPipeline.from_pretrained(
        model_location(settings["model"], settings["revision"]), dtype=torch.float32,
        safety_checker=None, requires_safety_checker=False)
    for module in (pipeline.unet, pipeline.vae, pipeline.text_encoder):
        module.requires_grad_(False)
    pipeline.unet.add_adapter(LoraConfig(r=a["rank"], lora_alpha=a["rank"],
                                         init_lora_weights="gaussian",
                                         target_modules=a["target_modules"]))
    pipeline.to(device)
    trained = [p for p in pipeline.unet.parameters() if p.requires_grad]
    optimiser = torch.optim.AdamW(trained, lr=a["learning_rate"])
    schedule = DDPMScheduler.from_config(pipeline.scheduler.config)
    batches = MixBatches(settings, mix, seed, device)
    losses = []
    for step in range(a["steps"]):
        loss = denoising_loss(pipeline, schedule, *batches.next(a["batch_size"]))
        loss.backward()
        optimiser.step()
        optimiser.zero_grad()
        losses.append(float(loss.detach()))
        if (step + 1) % max(1, a["steps"] // 10) == 0:
            log.info("adaptation step %d/%d: loss %.4f (mean of the last %d: %.4f)",
                     step + 1, a["steps"], losses[-1], min(len(losses), 50),
                     float(np.mean(losses[-50:])))
    batches.close()
    StableDiffusionPipeline.save_lora_weights(
        out, unet_lora_layers=convert_state_dict_to_diffusers(
            get_peft_model_state_dict(pipeline.unet)), weight_name=LORA_FILE,
        unet_lora_adapter_metadata=pipeline.unet.peft_config["default"].to_dict(),
        safe_serialization=True)
    (out / "adaptation.json").write_text(json.dumps(
        {**a, "images": len(mix), "seed": seed, "losses": losses}, indent=1))


class MixBatches:
    """Batches of a training mix for adaptation: pixels (each image scaled to cover the
    generator's height × width and centre-cropped, in [−1, 1]), prompts, and a
    ``torch.Generator`` for the noise, all drawn by ``seed``."""

    def __init__(self, settings: dict, mix, seed: int, device: str):
        import numpy as np
        import torch

        from biasamp.imagestore import ImageReader

        self.settings, self.mix, self.device = settings, mix, device
        self.reader, self.draw = ImageReader(), np.random.default_rng(seed)
        self.noise = torch.Generator(device).manual_seed(seed)

    def pixels(self, row):
        import numpy as np
        import torch
        from PIL import Image, ImageOps

        image = self.reader.read(row.image_path, row.image_offset, row.image_length)
        size = (self.settings["width"], self.settings["height"])
        array = np.asarray(ImageOps.fit(image, size, Image.Resampling.BICUBIC), np.float32)
        return torch.from_numpy(array / 127.5 - 1).permute(2, 0, 1)

    def next(self, size: int):
        import torch

        rows = self.mix.iloc[self.draw.choice(len(self.mix), size, replace=size > len(self.mix))]
        pixels = torch.stack([self.pixels(r) for r in rows.itertuples()]).to(self.device)
        prompts = [self.settings["prompt_template"].format(caption=c) for c in rows["caption"]]
        return pixels, prompts, self.noise

    def close(self) -> None:
        self.reader.close()


def denoising_loss(pipeline, schedule, pixels, prompts, generator):
    """The loss Stable Diffusion is trained with, on one batch: the UNet's mean squared error
    in predicting the noise (or the velocity, for v-prediction models) that the DDPM forward
    process ``schedule`` adds at timesteps drawn uniformly to the VAE latents of ``pixels``,
    given the text encoder's states of ``prompts``; latents, noise and timesteps drawn from
    ``generator``."""
    import torch

    device = pixels.device
    tokenizer, vae = pipeline.tokenizer, pipeline.vae
    with torch.no_grad():
        latents = vae.encode(pixels).latent_dist.sample(generator=generator) \
            * vae.config.scaling_factor
        ids = tokenizer(prompts, padding="max_length", truncation=True,
                        max_length=tokenizer.model_max_length, return_tensors="pt").input_ids
        hidden = pipeline.text_encoder(ids.to(device))[0]
    epsilon = torch.randn(latents.shape, generator=generator, device=device)
    steps = torch.randint(0, schedule.config.num_train_timesteps, (len(prompts),),
                          generator=generator, device=device)
    target = epsilon if schedule.config.prediction_type == "epsilon" else \
        schedule.get_velocity(latents, epsilon, steps)
    predicted = pipeline.unet(schedule.add_noise(latents, epsilon, steps), steps,
                              encoder_hidden_states=hidden).sample
    return torch.nn.functional.mse_loss(predicted, target)
