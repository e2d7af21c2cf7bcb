"""The toy generator: renders toy-world captions, with the biases attributed to Stable Diffusion.

Two failures reported for text-to-image models, each off by default (``kind: toy`` alone is a
faithful generator: its images are distributed as the real ones):

- over-rendering the majority for neutral prompts (Bianchi et al., FAccT 2023; Luccioni et
  al., NeurIPS 2023 "Stable Bias"): for a gender-neutral prompt it renders the majority gender m
  of the activity with probability

      P(m) = p^γ / (p^γ + (1 - p)^γ),   p = P(m | activity) in the real training data,

  so γ = 1 (``amplification: 1``) is faithful, γ > 1 amplifies the stereotype, γ < 1 mitigates;
- losing a counter-stereotypical prompt's attribute to the stereotype (Bianchi et al. 2023:
  prompts that name the counter-stereotype still yield the stereotype): a prompt that names the
  activity's minority gender ("a woman riding a skateboard") is rendered as its majority gender
  with probability ``stereotype_override``, while its caption still names the minority. This
  is the failure that reaches the models: in the generated data the person's look stops
  telling the gender its caption names, and the activity tells it instead.

``debias`` (0 to 1) is the toy world's debiased generator, the analogue of correcting a
text-to-image model at generation time: at 1 it renders neutral prompts with either gender
equally often and keeps every prompt's named gender (no override); in between it mixes the two
linearly. ``intervention`` (method ``prompt``, attribute gender) appends a gender phrase to
open prompts (:mod:`biasamp.interventions`); the toy generator then renders the target gender
the phrase names as if the caption named it, override included (the phrase's wording is not
parsed: ``phrases`` are keyed by the toy world's genders).

``face_blur`` blurs the face region (Chen et al., CVPR 2024, report blurry generated faces);
``colour_shift`` casts a colour over the whole image (generated images' colour and luminance
statistics differ from photographs'; off by default).
Skin tone follows the data's share. Every attribute rendered is recorded.

Feedback rounds (``rounds``): the toy generator adapts to a training mix by re-estimating
P(gender | activity) and the skin-tone share from it (:func:`adapt`), and then
renders with its failures applied again. :func:`feedback_majority` gives the majority share a
mix is expected to reach after r rounds.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pandas as pd

from biasamp import interventions, toyworld
from biasamp.generators import COMMON_SETTINGS, GENERATORS

# prompts only, on gender, with the phrase after a comma (the toy captions have none)
TOY_INTERVENTION = interventions.schema(["prompt"], ["gender"])
TOY_INTERVENTION["properties"]["phrases"]["propertyNames"] = {"enum": list(toyworld.GENDERS)}
TOY_INTERVENTION["properties"]["shares"]["propertyNames"] = {"enum": list(toyworld.GENDERS)}
TOY_INTERVENTION["properties"]["template"] = {
    "const": "{prompt}, {phrase}", "default": "{prompt}, {phrase}",
    "description": "The phrase follows the caption after a comma (the toy generator renders "
                   "the gender it names)."}

SCHEMA = {
    "type": "object",
    "additionalProperties": False,
    "properties": {
        **COMMON_SETTINGS,
        "amplification": {"type": "number", "exclusiveMinimum": 0, "default": 1.0,
                          "description": "γ: 1 faithful, >1 amplifies, <1 mitigates."},
        "face_blur": {"type": "number", "minimum": 0, "default": 0.0,
                      "description": "Gaussian blur radius over faces (64-pixel units)."},
        "colour_shift": {"type": "array", "items": {"type": "integer", "minimum": -255,
                                                    "maximum": 255},
                         "minItems": 3, "maxItems": 3, "default": [0, 0, 0],
                         "description": "Added to every pixel's (R, G, B): a colour cast "
                                        "(equal values shift the luminance)."},
        "stereotype_override": {
            "type": "number", "minimum": 0, "maximum": 1, "default": 0.0,
            "description": "Probability that a counter-stereotypical prompt (naming the "
                           "activity's minority gender) is rendered as its majority gender."},
        "debias": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.0,
                   "description": "1: neutral prompts rendered balanced and named genders "
                                  "kept (a debiased generator); 0: off."},
        "intervention": TOY_INTERVENTION,
        "image_size": {"type": "integer", "minimum": 16, "default": 64},
    },
}


ADAPTER_FILE = "generator.json"


def amplified(p: float, gamma: float) -> float:
    """P(render majority gender) = p^γ / (p^γ + (1-p)^γ).

    >>> amplified(0.75, 1.0), round(amplified(0.75, 2.0), 4), amplified(0.5, 3.0)
    (0.75, 0.9, 0.5)
    """
    a, b = p**gamma, (1 - p) ** gamma
    return a / (a + b)


def majority_shares(reference: pd.DataFrame) -> dict[str, tuple[str, float]]:
    """Per activity: (majority gender, its share) among real images of known gender."""
    known = reference.dropna(subset=["gender"])
    shares = {}
    for activity in toyworld.ACTIVITIES:
        counts = known.loc[known["activity"] == activity, "gender"].value_counts()
        if counts.empty:
            shares[activity] = (toyworld.ACTIVITIES[activity], 0.5)
        else:
            shares[activity] = (str(counts.idxmax()), float(counts.max() / counts.sum()))
    return shares


def feedback_majority(p: float, neutral: float, ratio: float, rounds: int,
                      settings: dict) -> float:
    """The majority gender's expected share among an activity's images in round ``rounds``'s
    mix, for a toy generator with ``settings`` that each round re-estimates its P(majority |
    activity) from the previous round's mix (round 1's generator learns from the real data).

    ``p``: the majority's share among the activity's real images; ``neutral``: the share of
    their captions that name no gender; ``ratio``: the generated share of a mix. Its generated
    images are neutral prompts, rendered majority with probability (1 − d)·a(q) + d/2 (a: the
    γ-amplification of the share q it learnt, d: ``debias``), and named ones, majority with
    probability p + (1 − p)·o(1 − d) (o: ``stereotype_override``). So

        q_r = (1 − ρ)·p + ρ·[(1 − n)(p + (1 − p)·o(1 − d)) + n·((1 − d)·a(q_{r−1}) + d/2)],

    from q_0 = p. With γ = 1 it is linear, q_r = A + B·q_{r−1} with B = ρ·n·(1 − d): the
    share approaches the fixed point q* = A / (1 − B) geometrically, q_r = q* + B^r (p − q*).
    (The expectation: a mix draws which captions are replaced, and the renders are random.)

    >>> s = {"amplification": 1.0, "stereotype_override": 0.0, "debias": 0.0}
    >>> feedback_majority(0.7, 0.5, 0.5, 3, s)  # a faithful generator keeps the share
    0.7
    >>> s = {**s, "stereotype_override": 1.0}  # named minority always lost: q* = 1
    >>> round(feedback_majority(0.7, 0.5, 1.0, 1, s), 4), round(feedback_majority(
    ...     0.7, 0.5, 1.0, 60, s), 4)
    (0.85, 1.0)
    """
    gamma, debias = settings["amplification"], settings["debias"]
    override = settings["stereotype_override"] * (1 - debias)
    named = p + (1 - p) * override
    q = p
    for _ in range(rounds):
        rendered = (1 - debias) * amplified(q, gamma) + debias / 2
        q = (1 - ratio) * p + ratio * ((1 - neutral) * named + neutral * rendered)
    return q


def adapt(settings: dict, mix: pd.DataFrame, out: Path, seed: int) -> None:
    """Learn from a training mix (feedback rounds): its per-activity majority gender and share,
    and its dark-skin share (generated images count with the attributes they were rendered
    with), into ``out``/generator.json."""
    skins = mix["skin"].dropna()
    learnt = {"majority": {a: list(v) for a, v in majority_shares(mix).items()},
              "dark_share": float((skins == "dark").mean()) if len(skins) else 0.5,
              "images": len(mix)}
    (out / ADAPTER_FILE).write_text(json.dumps(learnt, indent=1, sort_keys=True))


# it parses toy-world captions and mimics the world's statistics (activity, majority gender)
@GENERATORS.register("toy", schema=SCHEMA, datasets=("toy",), adapter=__name__)
class ToyGenerator:
    def __init__(self, settings: dict, reference: pd.DataFrame, adapter: str | None = None):
        """``adapter``: the folder :func:`adapt` wrote for a later feedback round; the
        generator then mimics what it learnt there, not ``reference``."""
        self.settings = settings
        if adapter is not None:
            learnt = json.loads((Path(adapter) / ADAPTER_FILE).read_text())
            self.majority = {a: (g, float(share)) for a, (g, share) in
                             learnt["majority"].items()}
            self.dark_share = float(learnt["dark_share"])
            return
        self.majority = majority_shares(reference)
        skins = reference["skin"].dropna()
        self.dark_share = float((skins == "dark").mean()) if len(skins) else 0.5

    @staticmethod
    def may_withhold(settings: dict) -> bool:
        return False

    def prompt(self, caption: str) -> str:
        """The toy generator is prompted with the training caption itself."""
        return caption

    def generate(self, prompts: Iterable[str], seeds: Iterable[int],
                 targets: Iterable[str | None] | None = None) -> Iterator[tuple]:
        gamma, debias = self.settings["amplification"], self.settings["debias"]
        override = self.settings["stereotype_override"] * (1 - debias)
        prompts = list(prompts)
        targets = [None] * len(prompts) if targets is None else list(targets)
        for prompt, seed, target in zip(prompts, seeds, targets, strict=True):
            rng = np.random.default_rng(seed)
            # an intervention's phrase follows the caption after a comma (toy captions have
            # none); its target is the gender the phrase names, rendered as a named gender is
            parsed = toyworld.parse_caption(prompt.split(",")[0])
            gender = parsed.gender or target
            majority, p = self.majority[parsed.activity]
            if gender is None:
                minority = next(g for g in toyworld.GENDERS if g != majority)
                rendered = (1 - debias) * amplified(p, gamma) + debias * 0.5
                gender = majority if rng.random() < rendered else minority
            elif gender != majority and override and rng.random() < override:
                gender = majority  # the prompt's gender is lost to the stereotype
            scene = toyworld.Scene(
                gender=gender,
                skin="dark" if rng.random() < self.dark_share else "light",
                activity=parsed.activity,
                place=parsed.place,
                shirt=parsed.shirt,
            )
            image, face = toyworld.render_with_face(
                scene, rng, self.settings["image_size"], self.settings["face_blur"],
                self.settings["colour_shift"],
            )
            yield {
                "flagged": False, "gender": scene.gender, "skin": scene.skin,
                "activity": scene.activity, "place": scene.place, "shirt": scene.shirt,
                "tasks": [scene.activity], "face_box": list(face),
            }, image
