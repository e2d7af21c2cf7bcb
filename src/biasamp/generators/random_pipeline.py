"""Stable Diffusion pipelines with random weights, built offline and saved with save_pretrained.

Used by the tests (a tiny pipeline that runs in seconds on a CPU), by the throughput benchmark
(the Stable Diffusion 1.5 architecture: timing does not depend on weight values) and by anyone
who wants to smoke-test the generate stage on a cluster before downloading real weights:

    python -m biasamp.generators.random_pipeline tiny path/to/pipeline

The CLIP tokenizer is written from the BPE vocabulary that open_clip ships, which is the
vocabulary of the Stable Diffusion 1.x text encoder, so no download is needed.
"""

from __future__ import annotations

import argparse
import gzip
import json
import tempfile
from pathlib import Path

# Architecture of Stable Diffusion v1.5 (its published model configs) and a tiny variant.
ARCHITECTURES = {
    "sd15": {
        "unet": {"sample_size": 64, "block_out_channels": (320, 640, 1280, 1280),
                 "layers_per_block": 2, "cross_attention_dim": 768, "attention_head_dim": 8,
                 "down_block_types": ("CrossAttnDownBlock2D", "CrossAttnDownBlock2D",
                                      "CrossAttnDownBlock2D", "DownBlock2D"),
                 "up_block_types": ("UpBlock2D", "CrossAttnUpBlock2D", "CrossAttnUpBlock2D",
                                    "CrossAttnUpBlock2D")},
        "vae": {"sample_size": 512, "block_out_channels": (128, 256, 512, 512),
                "layers_per_block": 2, "latent_channels": 4,
                "down_block_types": ("DownEncoderBlock2D",) * 4,
                "up_block_types": ("UpDecoderBlock2D",) * 4},
        "text": {"hidden_size": 768, "intermediate_size": 3072, "num_attention_heads": 12,
                 "num_hidden_layers": 12, "projection_dim": 768, "hidden_act": "quick_gelu"},
    },
    "tiny": {
        "unet": {"sample_size": 8, "block_out_channels": (32, 64), "layers_per_block": 1,
                 "cross_attention_dim": 32, "attention_head_dim": 8, "norm_num_groups": 8,
                 "down_block_types": ("DownBlock2D", "CrossAttnDownBlock2D"),
                 "up_block_types": ("CrossAttnUpBlock2D", "UpBlock2D")},
        "vae": {"sample_size": 32, "block_out_channels": (16, 32), "layers_per_block": 1,
                "latent_channels": 4, "norm_num_groups": 8,
                "down_block_types": ("DownEncoderBlock2D",) * 2,
                "up_block_types": ("UpDecoderBlock2D",) * 2},
        "text": {"hidden_size": 32, "intermediate_size": 64, "num_attention_heads": 4,
                 "num_hidden_layers": 2, "projection_dim": 32, "hidden_act": "quick_gelu"},
    },
}


def write_clip_tokenizer(folder: str | Path) -> None:
    """vocab.json + merges.txt of the CLIP BPE tokenizer, from open_clip's bundled vocabulary."""
    from open_clip.tokenizer import bytes_to_unicode, default_bpe

    lines = gzip.open(default_bpe()).read().decode("utf-8").split("\n")
    merges = lines[1 : 49152 - 256 - 2 + 1]  # the 48,894 merges CLIP uses
    vocab = list(bytes_to_unicode().values())
    vocab = vocab + [v + "</w>" for v in vocab] + ["".join(m.split()) for m in merges]
    vocab += ["<|startoftext|>", "<|endoftext|>"]
    folder = Path(folder)
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "vocab.json").write_text(json.dumps({t: i for i, t in enumerate(vocab)}))
    (folder / "merges.txt").write_text("#version: 0.2\n" + "\n".join(merges) + "\n")


def build_pipeline(architecture: str, folder: str | Path, seed: int = 0,
                   safety_checker: bool = False):
    """Build a random-weight StableDiffusionPipeline of ``architecture`` and save it to ``folder``.

    With ``safety_checker`` the pipeline gets a (random) StableDiffusionSafetyChecker and its
    image processor, like the published Stable Diffusion folders.
    """
    import torch
    from diffusers import (
        AutoencoderKL,
        PNDMScheduler,
        StableDiffusionPipeline,
        UNet2DConditionModel,
    )
    from transformers import CLIPTextConfig, CLIPTextModel, CLIPTokenizer

    spec = ARCHITECTURES[architecture]
    torch.manual_seed(seed)
    with tempfile.TemporaryDirectory() as files:
        write_clip_tokenizer(files)
        tokenizer = CLIPTokenizer(f"{files}/vocab.json", f"{files}/merges.txt",
                                  model_max_length=77)
    text_encoder = CLIPTextModel(CLIPTextConfig(
        vocab_size=len(tokenizer), max_position_embeddings=77, bos_token_id=49406,
        eos_token_id=49407, pad_token_id=49407, **spec["text"]))
    unet = UNet2DConditionModel(in_channels=4, out_channels=4, **spec["unet"])
    vae = AutoencoderKL(in_channels=3, out_channels=3, **spec["vae"])
    scheduler = PNDMScheduler(beta_start=0.00085, beta_end=0.012, beta_schedule="scaled_linear",
                              num_train_timesteps=1000, skip_prk_steps=True,
                              steps_offset=1, set_alpha_to_one=False)
    checker, processor = (_safety_checker(spec) if safety_checker else (None, None))
    pipeline = StableDiffusionPipeline(
        vae=vae, text_encoder=text_encoder, tokenizer=tokenizer, unet=unet, scheduler=scheduler,
        safety_checker=checker, feature_extractor=processor,
        requires_safety_checker=safety_checker,
    )
    pipeline.save_pretrained(folder)
    return pipeline


def _safety_checker(spec: dict):
    from diffusers.pipelines.stable_diffusion.safety_checker import (
        StableDiffusionSafetyChecker,
    )
    from transformers import CLIPConfig, CLIPImageProcessor

    width = spec["text"]["hidden_size"]
    config = CLIPConfig(
        text_config={"hidden_size": width, "intermediate_size": 2 * width,
                     "num_attention_heads": 4, "num_hidden_layers": 1},
        vision_config={"hidden_size": width, "intermediate_size": 2 * width,
                       "num_attention_heads": 4, "num_hidden_layers": 1, "image_size": 32,
                       "patch_size": 8},
        projection_dim=width,
    )
    processor = CLIPImageProcessor(crop_size=32, size={"shortest_edge": 32})
    return StableDiffusionSafetyChecker(config), processor


def main() -> None:
    parser = argparse.ArgumentParser(description="Save a random-weight Stable Diffusion pipeline.")
    parser.add_argument("architecture", choices=sorted(ARCHITECTURES))
    parser.add_argument("folder")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--safety-checker", action="store_true")
    args = parser.parse_args()
    build_pipeline(args.architecture, args.folder, args.seed, args.safety_checker)


if __name__ == "__main__":
    main()
