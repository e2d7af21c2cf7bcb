"""Any diffusers text-to-image pipeline (Stable Diffusion 1.5 in the published studies).

The pipeline is loaded with ``DiffusionPipeline.from_pretrained`` from a local folder or the
Hugging Face cache; jobs never download (cluster nodes are often offline), so a model that is
neither is reported before any job starts, with the command that fetches it.

Every image gets its own ``torch.Generator`` seeded with the image seed, so its initial noise,
and hence the image, does not depend on batch size, shard layout or the number of GPUs.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterable, Iterator
from pathlib import Path

from biasamp import interventions
from biasamp.generators import COMMON_SETTINGS, GENERATORS

log = logging.getLogger(__name__)

# scheduler name in the config -> (diffusers class, extra config)
SCHEDULERS = {
    "ddim": ("DDIMScheduler", {}),
    "pndm": ("PNDMScheduler", {}),
    "lms": ("LMSDiscreteScheduler", {}),
    "euler": ("EulerDiscreteScheduler", {}),
    "euler_ancestral": ("EulerAncestralDiscreteScheduler", {}),
    "dpm++": ("DPMSolverMultistepScheduler", {"algorithm_type": "dpmsolver++"}),
    "dpm++_karras": ("DPMSolverMultistepScheduler",
                     {"algorithm_type": "dpmsolver++", "use_karras_sigmas": True}),
    "unipc": ("UniPCMultistepScheduler", {}),
}

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "required": ["model"],
    "properties": {
        **COMMON_SETTINGS,
        "gpus": {**COMMON_SETTINGS["gpus"], "default": 1},
        "model": {"type": "string", "minLength": 1,
                  "description": "Hub id (must be in the local Hugging Face cache) or folder."},
        "revision": {"type": ["string", "null"], "default": None},
        "scheduler": {"enum": ["default", *SCHEDULERS], "default": "default",
                      "description": "Sampler; 'default' keeps the model's own."},
        "steps": {"type": "integer", "minimum": 1, "default": 50},
        "guidance": {"type": "number", "minimum": 0, "default": 7.5},
        "height": {"type": "integer", "minimum": 8, "multipleOf": 8, "default": 512},
        "width": {"type": "integer", "minimum": 8, "multipleOf": 8, "default": 512},
        "negative_prompt": {"type": "string", "default": ""},
        "prompt_template": {"type": "string", "pattern": "\\{caption\\}",
                            "default": "{caption}",
                            "description": "Prompt made from the image's training caption."},
        "dtype": {"enum": ["float16", "bfloat16", "float32"], "default": "float16"},
        "batch_size": {"type": "integer", "minimum": 1, "default": 16},
        "compile": {"type": "boolean", "default": False,
                    "description": "torch.compile the UNet (channels_last, fused QKV)."},
        "safety_checker": {"type": "boolean", "default": False,
                           "description": "Run the model's safety checker; flagged images are "
                                          "recorded and never mixed in."},
        "intervention": interventions.schema(["prompt", "guidance", "latent"]),
        "adaptation": {
            "type": "object", "additionalProperties": False, "default": {},
            "description": "Feedback rounds (`rounds`): LoRA fine-tuning of the UNet on the "
                           "previous round's training mix (peft), from the base weights each "
                           "round, in float32 at the generator's height × width.",
            "properties": {
                "steps": {"type": "integer", "minimum": 1, "default": 1000,
                          "description": "Optimiser steps (batches drawn from the mix)."},
                "batch_size": {"type": "integer", "minimum": 1, "default": 4,
                               "description": "Images per step (one process)."},
                "learning_rate": {"type": "number", "exclusiveMinimum": 0, "default": 1e-4,
                                  "description": "AdamW's learning rate for the LoRA weights."},
                "rank": {"type": "integer", "minimum": 1, "default": 4,
                         "description": "LoRA rank (alpha = rank)."},
                "target_modules": {"type": "array", "items": {"type": "string"},
                                   "minItems": 1, "default": ["to_k", "to_q", "to_v", "to_out.0"],
                                   "description": "UNet attention projections LoRA adapts."},
            },
        },
    },
}

LORA_FILE = "pytorch_lora_weights.safetensors"  # diffusers' name, read by load_lora_weights


def semantic_pipeline_class():
    """diffusers' SemanticStableDiffusionPipeline (SEGA), or None where the installed diffusers
    no longer ships it (it moved to the deprecated pipelines in 0.30)."""
    try:
        from diffusers import SemanticStableDiffusionPipeline
    except ImportError:
        return None
    return SemanticStableDiffusionPipeline


def model_location(model: str, revision: str | None = None) -> Path | None:
    """The local folder of ``model`` (a folder path or a cached hub id), or None."""
    if Path(model).is_dir():
        return Path(model) if (Path(model) / "model_index.json").is_file() else None
    from huggingface_hub import try_to_load_from_cache

    cached = try_to_load_from_cache(model, "model_index.json", revision=revision)
    return Path(cached).parent if isinstance(cached, str) else None


def check(settings: dict) -> list[tuple[str, str]]:
    model = settings["model"]
    if Path(model).exists() and model_location(model) is None:
        return [("model", f"{model} is not a diffusers pipeline folder (no model_index.json)")]
    if model_location(model, settings["revision"]) is None:
        return [("model", (
            f"{model!r} is neither a local folder nor in the Hugging Face cache "
            f"(HF_HOME). Jobs do not download; fetch it once ahead of time, e.g. "
            f"`hf download {model}` (or `huggingface-cli download {model}`), or set model to "
            f"a folder written by save_pretrained."))]
    method = (settings.get("intervention") or {}).get("method")
    if method == "guidance" and semantic_pipeline_class() is None:
        import diffusers

        return [("intervention", (
            f"method guidance needs diffusers' SemanticStableDiffusionPipeline, which diffusers "
            f"{diffusers.__version__} does not ship; install a diffusers that does (0.42 "
            f"keeps it among its deprecated pipelines), or use method latent or prompt"))]
    if settings["safety_checker"]:
        folder = model_location(model, settings["revision"])
        if not (folder / "safety_checker").is_dir():
            return [("safety_checker", f"{model} ships no safety_checker; set it to false")]
    return []


def torch_device(gpus: int) -> str:
    import torch

    if gpus > 0 and torch.cuda.is_available():
        return "cuda"
    log.info("no GPU requested or visible: generating on the CPU")
    return "cpu"


@GENERATORS.register("diffusers", schema=SCHEMA, check=check,
                     adapter="biasamp.generators.lora")
class DiffusersGenerator:
    @staticmethod
    def may_withhold(settings: dict) -> bool:
        """With its safety checker on, the pipeline withholds the images it flags."""
        return settings["safety_checker"]

    def __init__(self, settings: dict, reference=None, adapter: str | None = None):
        """``adapter``: the folder :func:`biasamp.generators.lora.adapt` wrote (a feedback
        round's LoRA), or None."""
        import torch
        from diffusers import DiffusionPipeline

        self.settings = settings
        self.device = torch_device(settings["gpus"])
        dtype = getattr(torch, settings["dtype"])
        if self.device == "cpu" and dtype == torch.float16:
            log.warning("float16 is slow or unsupported on the CPU; using float32")
            dtype = torch.float32
        folder = model_location(settings["model"], settings["revision"])
        extra = {} if settings["safety_checker"] else {"safety_checker": None,
                                                       "requires_safety_checker": False}
        pipeline = DiffusionPipeline.from_pretrained(folder, dtype=dtype, **extra)
        if settings["scheduler"] != "default":
            import diffusers

            name, overrides = SCHEDULERS[settings["scheduler"]]
            pipeline.scheduler = getattr(diffusers, name).from_config(
                pipeline.scheduler.config, **overrides)
        pipeline.set_progress_bar_config(disable=True)
        if adapter is not None:  # a feedback round's LoRA, merged into the UNet's weights
            pipeline.load_lora_weights(adapter, weight_name=LORA_FILE)
            pipeline.fuse_lora()
            pipeline.unload_lora_weights()
        if settings["compile"]:
            # a persistent compile cache: later shards reuse the first one's kernels
            os.environ.setdefault("TORCHINDUCTOR_CACHE_DIR",
                                  str(Path.home() / ".cache" / "biasamp" / "torchinductor"))
            pipeline.fuse_qkv_projections()
            pipeline.unet.to(memory_format=torch.channels_last)
            pipeline.unet = torch.compile(pipeline.unet, mode="max-autotune-no-cudagraphs",
                                          fullgraph=True)
        self.pipeline = pipeline.to(self.device)
        self.spec = settings.get("intervention")
        self.semantic = None
        if self.spec and self.spec["method"] == "guidance":
            self.semantic = semantic_pipeline_class().from_pipe(self.pipeline)
            self.semantic.set_progress_bar_config(disable=True)
        log.info("loaded %s (%s, %s, scheduler %s)", settings["model"], self.device,
                 settings["dtype"], type(pipeline.scheduler).__name__)

    def prompt(self, caption: str) -> str:
        return self.settings["prompt_template"].format(caption=caption)

    def generate(self, prompts: Iterable[str], seeds: Iterable[int],
                 targets: Iterable[str | None] | None = None) -> Iterator[tuple]:
        import torch

        prompts, seeds = list(prompts), list(seeds)
        targets = [None] * len(prompts) if targets is None else list(targets)
        s = self.settings
        for start in range(0, len(prompts), s["batch_size"]):
            stop = start + s["batch_size"]
            batch, batch_targets = prompts[start:stop], targets[start:stop]
            generators = [torch.Generator(self.device).manual_seed(int(seed))
                          for seed in seeds[start:stop]]
            common = {"num_inference_steps": s["steps"], "guidance_scale": s["guidance"],
                      "height": s["height"], "width": s["width"], "output_type": "pil"}
            if self.semantic is not None:
                images, flags = self._guided(batch, batch_targets, generators, common)
            else:
                extra = {}
                if self.spec and self.spec["method"] == "latent" and any(batch_targets):
                    extra = {"callback_on_step_end": self._corrector(batch, batch_targets),
                             "callback_on_step_end_tensor_inputs": ["latents"]}
                output = self.pipeline(prompt=batch, generator=generators,
                                       negative_prompt=[s["negative_prompt"]] * len(batch),
                                       **common, **extra)
                images = output.images
                flags = output.nsfw_content_detected or [False] * len(batch)
            for image, flagged in zip(images, flags, strict=True):
                yield {"flagged": bool(flagged)}, image

    def _guided(self, batch, batch_targets, generators, common):
        """Fair Diffusion: each target's images through SEGA, toward its phrase and away from
        the others'; prompts without a target through the plain pipeline. Initial noise comes
        from each image's own generator, so grouping changes no image."""
        spec, s = self.spec, self.settings
        named = interventions.phrases(spec)
        images, flags = [None] * len(batch), [False] * len(batch)
        for target in dict.fromkeys(batch_targets):
            rows = [i for i, t in enumerate(batch_targets) if t == target]
            arguments = {"prompt": [batch[i] for i in rows],
                         "generator": [generators[i] for i in rows],
                         "negative_prompt": [s["negative_prompt"]] * len(rows), **common}
            if target is None:
                output = self.pipeline(**arguments)
            else:
                others = [v for v in named if v != target]
                output = self.semantic(
                    **arguments,
                    editing_prompt=[named[target], *(named[v] for v in others)],
                    reverse_editing_direction=[False] + [True] * len(others),
                    edit_guidance_scale=spec["guidance_scale"],
                    edit_warmup_steps=spec["warmup_steps"], edit_threshold=spec["threshold"],
                    edit_momentum_scale=spec["momentum"], edit_mom_beta=spec["momentum_beta"])
            found = output.nsfw_content_detected or [False] * len(rows)
            for i, image, flagged in zip(rows, output.images, found, strict=True):
                images[i], flags[i] = image, flagged
        return images, flags

    def _corrector(self, batch, batch_targets):
        """The latent method's step-end callback (module docstring of
        :mod:`biasamp.interventions`): x_t ← x_t − strength · σ_t · (ε(x_t, target prompt) −
        ε(x_t, prompt)) after each of the first ``steps`` steps, for prompts with a target;
        σ_t is the latents' noise scale: √(1 − ᾱ_t) for the variance-preserving samplers
        (PNDM, DDIM, DPM-Solver, UniPC), the scheduler's σ_t for sigma-scaled ones (Euler,
        LMS), so a ``strength`` means the same step in units of the score either way."""
        import torch

        spec, pipe = self.spec, self.pipeline
        aimed = [interventions.with_phrase(spec, p, t) for p, t in zip(batch, batch_targets,
                                                                        strict=True)]
        with torch.no_grad():
            plain = pipe.encode_prompt(batch, self.device, 1, False)[0]
            target = pipe.encode_prompt(aimed, self.device, 1, False)[0]
        mask = torch.tensor([t is not None for t in batch_targets], device=self.device)

        scheduler = pipe.scheduler
        # PNDM's second step restarts from the sample it kept before its first: a correction
        # made after the first step would be thrown away, so it starts after the second
        first = 1 if type(scheduler).__name__ == "PNDMScheduler" else 0
        # the latents' noise scale: σ (sigma-scaled latents: Euler, LMS, ...) or √(1 − ᾱ_t)
        sigma_scaled = float(scheduler.init_noise_sigma) != 1.0

        def correct(pipeline, step, timestep, tensors):
            timesteps = pipeline.scheduler.timesteps
            if not first <= step < first + spec["steps"] or step + 1 >= len(timesteps):
                return tensors
            latents, at = tensors["latents"], timesteps[step + 1]
            with torch.no_grad():
                scaled = pipeline.scheduler.scale_model_input(latents, at)
                both = pipeline.unet(torch.cat([scaled, scaled]), at,
                                     encoder_hidden_states=torch.cat([plain, target])).sample
            eps_plain, eps_target = both.chunk(2)
            if sigma_scaled:
                sigma = pipeline.scheduler.sigmas[step + 1]
            else:
                alpha_bar = pipeline.scheduler.alphas_cumprod[int(round(float(at)))]
                sigma = (1 - alpha_bar).sqrt()
            sigma = sigma.to(device=latents.device, dtype=latents.dtype)
            update = spec["strength"] * sigma * (eps_target - eps_plain)
            tensors["latents"] = latents - update * mask.view(-1, 1, 1, 1).to(latents.dtype)
            return tensors

        return correct

