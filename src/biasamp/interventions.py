"""Generation-time interventions: steering a generator toward balanced attributes for prompts
that leave them open, so a study can ask "if the generator is debiased, does the downstream
bias go away?" with the debiased generator beside the plain one.

A generator entry's ``intervention`` names the ``attribute`` (gender by default), a phrase per
value (``phrases``; gender: "a woman", "a man") and the ``shares`` to aim for (equal by
default). A prompt is *open* when it names a person (COCO's person words, :mod:`biasamp.wordlists`)
and no value of the attribute (:func:`biasamp.wordlists.mentions`): "a person cutting a cake",
not "a woman cutting a cake" nor "a bowl of fruit". Each open prompt gets a target value, drawn
with probabilities ``shares`` from a generator seeded by the global seed and the image's seed
(its caption and number: targets depend neither on shards and batches nor on the generator, so
the generators of a study aim each caption at the same target), recorded in the manifest column
``intervention`` as ``attribute:value``. The ``method`` says what the target does:

- ``prompt`` (Bansal et al., EMNLP 2022: ethical interventions in the prompt): the target's
  phrase is written into the prompt by ``template`` ("{prompt}, {phrase}");
- ``guidance`` (Fair Diffusion, Friedrich et al. 2023): semantic guidance (SEGA, Brack et al.,
  NeurIPS 2023) toward the target's phrase and away from the other values' phrases, through
  diffusers' ``SemanticStableDiffusionPipeline`` (``guidance_scale``, ``warmup_steps``,
  ``threshold``, ``momentum``, ``momentum_beta``: its edit_* arguments);
- ``latent`` (this workflow's own method, in the spirit of RS-Corrector, Zhu et al. 2023: an
  inference-time correction of the latent code without fine-tuning): during the first
  ``steps`` denoising steps the latent x_t is moved along the difference of the UNet's scores
  for the prompt with and without the target phrase,
  x_t ← x_t − ``strength`` · σ_t · (ε(x_t, prompt + phrase) − ε(x_t, prompt)),
  σ_t = √(1 − ᾱ_t) (the scheduler's σ_t where latents are sigma-scaled: Euler, LMS): a step of
  ``strength`` · σ_t² up log p(x | target) − log p(x | prompt), the direction in which the prompt
  and its target-specified version disagree, at the steps where layout and the person's look are
  decided (with PNDM, Stable Diffusion 1.5's default, from its second step: its second step
  restarts from the sample before its first).
"""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from biasamp import wordlists
from biasamp.seeding import rng_for

DEFAULT_PHRASES = {"gender": {"female": "a woman", "male": "a man"}}
ATTRIBUTES = ("gender", "skin", "ethnicity", "age", "region")


def schema(methods: Sequence[str], attributes: Sequence[str] = ATTRIBUTES) -> dict:
    """The ``intervention`` setting of a generator kind that supports ``methods`` (on
    ``attributes``)."""
    knobs = {
        "template": {"type": "string", "pattern": "\\{prompt\\}.*\\{phrase\\}|"
                                                  "\\{phrase\\}.*\\{prompt\\}",
                     "default": "{prompt}, {phrase}",
                     "description": "methods prompt and latent (its target prompt): how the "
                                    "phrase is written into the prompt."},
    }
    if "guidance" in methods:
        knobs |= {
            "guidance_scale": {"type": "number", "minimum": 0, "default": 4.0,
                               "description": "method guidance: SEGA's edit_guidance_scale."},
            "warmup_steps": {"type": "integer", "minimum": 0, "default": 10,
                             "description": "method guidance: steps before editing starts."},
            "threshold": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.95,
                          "description": "method guidance: SEGA's edit_threshold."},
            "momentum": {"type": "number", "minimum": 0, "default": 0.3,
                         "description": "method guidance: SEGA's edit_momentum_scale."},
            "momentum_beta": {"type": "number", "minimum": 0, "maximum": 1, "default": 0.6,
                              "description": "method guidance: SEGA's edit_mom_beta."},
        }
    if "latent" in methods:
        knobs |= {
            "strength": {"type": "number", "minimum": 0, "default": 1.0,
                         "description": "method latent: the step size of the correction."},
            "steps": {"type": "integer", "minimum": 0, "default": 10,
                      "description": "method latent: denoising steps corrected (the "
                                     "first ones)."},
        }
    return {
        "type": ["object", "null"],
        "default": None,
        "additionalProperties": False,
        "required": ["method"],
        "description": "Steer open prompts toward balanced attributes (README, 'Debiasing "
                       "at generation time'); null: none.",
        "properties": {
            "method": {"enum": list(methods),
                       "description": "prompt: a phrase in the prompt; guidance: SEGA (Fair "
                                      "Diffusion); latent: the latent correction."},
            "attribute": {"enum": list(attributes), "default": "gender",
                          "description": "The attribute steered; prompts naming a value of "
                                         "it are left alone."},
            "phrases": {"type": "object", "minProperties": 2,
                        "additionalProperties": {"type": "string", "minLength": 1},
                        "description": "A phrase naming each value (default for gender: a "
                                       "woman, a man)."},
            "shares": {"type": "object", "default": {},
                       "additionalProperties": {"type": "number", "minimum": 0},
                       "description": "Target share of each value (default: equal)."},
            **knobs,
        },
        "if": {"properties": {"attribute": {"not": {"const": "gender"}}},
               "required": ["attribute"]},
        "then": {"required": ["phrases"]},
    }


def phrases(spec: dict) -> dict[str, str]:
    return spec.get("phrases") or DEFAULT_PHRASES[spec["attribute"]]


def problems(spec: dict | None, key: str) -> list[str]:
    """What the schema cannot see: shares for values without a phrase, all shares 0."""
    if not spec:
        return []
    named = phrases(spec)
    unknown = sorted(set(spec["shares"]) - set(named))
    if unknown:
        return [f"config key '{key}.shares': {', '.join(unknown)} has no phrase; the values "
                f"are {', '.join(named)}"]
    if spec["shares"] and sum(spec["shares"].get(v, 0) for v in named) <= 0:
        return [f"config key '{key}.shares': the shares sum to 0"]
    return []


def probabilities(spec: dict) -> dict[str, float]:
    """Each value's probability of being an open prompt's target.

    >>> probabilities({"attribute": "gender", "shares": {"female": 3, "male": 1}})
    {'female': 0.75, 'male': 0.25}
    >>> probabilities({"attribute": "gender", "shares": {}})
    {'female': 0.5, 'male': 0.5}
    """
    named = phrases(spec)
    weights = {v: float(spec["shares"].get(v, 0.0)) if spec["shares"] else 1.0 for v in named}
    total = sum(weights.values())
    return {v: w / total for v, w in weights.items()}


_PERSON = re.compile(r"\b(?:" + "|".join(
    re.escape(p) for p in sorted(wordlists.COCO_SYNONYMS["person"], key=len, reverse=True))
    + r")\b")


def is_open(prompt: str, attribute: str) -> bool:
    """The prompt names a person and no value of ``attribute``.

    >>> is_open("a person cutting a cake", "gender"), is_open("A woman cooking", "gender")
    (True, False)
    >>> is_open("a bowl of fruit", "gender"), is_open("an old man reading", "gender")
    (False, False)
    >>> is_open("a man reading", "age"), is_open("an old man reading", "age")
    (True, False)
    """
    return bool(_PERSON.search(prompt.lower())) and not wordlists.mentions(attribute, prompt)


def targets(spec: dict | None, prompts: Sequence[str], keys: Sequence, seed: int
            ) -> list[str | None]:
    """The target value of each prompt (None: not open, or no intervention), drawn from a
    generator seeded by ``seed`` and the prompt's key (its image seed)."""
    if not spec:
        return [None] * len(prompts)
    chances = probabilities(spec)
    values, p = list(chances), np.array(list(chances.values()))
    out = []
    for prompt, key in zip(prompts, keys, strict=True):
        if not is_open(prompt, spec["attribute"]):
            out.append(None)
            continue
        draw = rng_for(seed, "intervention", key).random()
        out.append(values[min(int(np.searchsorted(np.cumsum(p), draw, side="right")),
                              len(values) - 1)])
    return out


def with_phrase(spec: dict, prompt: str, target: str | None) -> str:
    """``prompt`` with the target's phrase written in by the template (unchanged without one).

    >>> spec = {"attribute": "gender", "template": "{prompt}, {phrase}"}
    >>> with_phrase(spec, "a person cutting a cake", "female")
    'a person cutting a cake, a woman'
    """
    if target is None:
        return prompt
    return spec["template"].format(prompt=prompt, phrase=phrases(spec)[target])


def recorded(spec: dict | None, target: str | None) -> str | None:
    """The manifest's ``intervention`` value of an image."""
    return None if spec is None or target is None else f"{spec['attribute']}:{target}"
