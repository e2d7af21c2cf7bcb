"""Generator kinds: text-to-image models that render one image per prompt.

A kind is a class registered under its name, constructed as ``cls(settings, reference)``
(``reference`` is the real training manifest, for generators that mimic its statistics), with
``prompt(caption)`` (the documented rule that turns a training caption into a prompt) and
``generate(prompts, seeds)``, which yields ``(attributes, PIL image)`` per prompt, in order;
``attributes["flagged"]`` marks an image a safety checker withheld. Image seeds come from the
generate stage (global seed + image id), so an image never depends on batch size, shard layout
or device count.
"""

from biasamp.registry import Registry

GENERATORS = Registry("generator")

# Settings every generator kind accepts; they shape the generate stage, not the images.
COMMON_SETTINGS = {
    "shards": {"type": "integer", "minimum": 1, "default": 4,
               "description": "Generation jobs per dataset; each writes one archive + index."},
    "gpus": {"type": "integer", "minimum": 0, "default": 0,
             "description": "GPUs per generation job (Snakemake resource `gpu`)."},
    "image_format": {"enum": ["PNG", "JPEG", "WEBP"], "default": "PNG",
                     "description": "Encoding of the images in the shard archives."},
}

from biasamp.generators import diffusion, toy  # noqa: E402,F401  (register the kinds)
