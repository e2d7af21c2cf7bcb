"""CoCa (contrastive captioner) trained with open_clip's trainer, as CLIP is, plus captions.

Training is the CLIP kind's (``open_clip_train`` on the mix manifest, read by reference), with
open_clip's CoCa loss: contrastive plus captioning, weighted by the settings. The model is a
CLIP for the retrieval and bias measures and also writes captions for the evaluation images
(beam search, :mod:`biasamp.models.decoding`), measured for quality (BLEU-4) and for gender.
open_clip selects the CoCa loss by model name, so ``arch`` must name a CoCa config.
"""

from __future__ import annotations

import copy
import logging

import pandas as pd

from biasamp.models import MODELS
from biasamp.models.clip import SCHEMA as CLIP_SCHEMA
from biasamp.models.clip import Clip
from biasamp.models.clip import check as check_arch
from biasamp.models.decoding import beam_search

log = logging.getLogger(__name__)

SCHEMA = copy.deepcopy(CLIP_SCHEMA)
SCHEMA["properties"].update({
    "arch": {"type": "string", "default": "toy-CoCa",
             "description": "open_clip CoCa config name (coca_ViT-B-32, toy-CoCa, ...)."},
    "caption_loss_weight": {"type": "number", "minimum": 0, "default": 2.0},
    "contrastive_loss_weight": {"type": "number", "minimum": 0, "default": 1.0},
    "beams": {"type": "integer", "minimum": 1, "default": 4,
              "description": "Beam width of caption generation."},
    "caption_tokens": {"type": "integer", "minimum": 2, "default": 20,
                       "description": "Most tokens of a generated caption."},
})


def check(settings: dict) -> list[tuple[str, str]]:
    if problems := check_arch(settings):
        return problems
    if "coca" not in settings["arch"].lower():
        return [("arch", f"{settings['arch']!r} is not a CoCa config: open_clip_train trains "
                         "with the CoCa loss only for model names containing 'coca'")]
    return []


@MODELS.register("coca", schema=SCHEMA, check=check)
class CoCa(Clip):
    """A CoCa model: CLIP towers plus a multimodal text decoder that writes captions."""

    writes_captions = True

    @staticmethod
    def trainer_options(settings: dict) -> list[str]:
        return ["--coca-caption-loss-weight", str(settings["caption_loss_weight"]),
                "--coca-contrastive-loss-weight", str(settings["contrastive_loss_weight"])]

    @staticmethod
    def initialise(model) -> None:
        """Initialise the multimodal text decoder as open_clip means to.

        open_clip's ``MultimodalTransformer`` allocates its ``text_projection`` with
        ``torch.empty`` and never calls its ``init_parameters`` (which would fail: it reads a
        ``transformer`` attribute the class does not have), so the projection starts as
        whatever memory held: NaN at times, and never reproducible. These are the standard
        deviations that method intends (those of open_clip's text tower).
        """
        from torch import nn

        decoder = model.text_decoder
        attn_std = decoder.width ** -0.5
        proj_std = attn_std * (2 * decoder.layers) ** -0.5
        fc_std = (2 * decoder.width) ** -0.5
        for block in [*decoder.resblocks, *decoder.cross_attn]:
            nn.init.normal_(block.attn.in_proj_weight, std=attn_std)
            nn.init.normal_(block.attn.out_proj.weight, std=proj_std)
            nn.init.normal_(block.mlp.c_fc.weight, std=fc_std)
            nn.init.normal_(block.mlp.c_proj.weight, std=proj_std)
        nn.init.normal_(decoder.text_projection, std=attn_std)

    def caption(self, frame: pd.DataFrame, batch_size: int, settings: dict,
                workers: int = 0) -> list[str]:
        """One caption per image of ``frame``, by beam search (``beams``, at most
        ``caption_tokens`` tokens, from the model's settings)."""
        import torch
        import torch.nn.functional as F

        beams, max_tokens = settings["beams"], settings["caption_tokens"]
        tokenizer = self.tokenizer
        # the prefix (start token + generated ones) must fit the decoder's context
        max_tokens = min(max_tokens, self.model.text.context_length - 1)
        out = []
        with torch.inference_mode(), self.autocast():
            for images in self.image_batches(frame, batch_size, workers, "images captioned"):
                latent, embs = self.model._encode_image(images.to(self.device, non_blocking=True))

                def next_log_probs(rows, prefixes, latent=latent, embs=embs):
                    rows = rows.to(self.device)
                    logits = self.model(None, prefixes.to(self.device), image_latent=latent[rows],
                                        image_embs=embs[rows], output_labels=False)["logits"]
                    return F.log_softmax(logits[:, -1].float(), dim=-1).cpu()

                sequences = beam_search(next_log_probs, len(images), tokenizer.sot_token_id,
                                        tokenizer.eot_token_id, beams, max_tokens)
                # one line each: a barely trained decoder can emit any byte, newlines included
                out += [" ".join(tokenizer.decode(seq).split()) for seq in sequences]
        return out
