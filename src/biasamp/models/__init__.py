"""Model kinds: what is trained on every mix and how it is queried for evaluation.

A kind is a class registered under its name with
  ``train(settings, mix_manifest, model_path, seed, threads)`` (class method) and
  ``load(model_path, device)`` returning an object with ``encode_images(frame, batch_size)``
  and ``encode_texts(captions, batch_size)`` (L2-normalised numpy arrays); a captioner's
  object also has ``caption(frame, batch_size, beams, max_tokens)``.
Heavy libraries are imported inside those functions, so reading the registry stays cheap.
"""

from biasamp.registry import Registry

MODELS = Registry("model")

# Settings every model kind accepts; they shape the train job, not the model.
COMMON_SETTINGS = {
    "threads": {"type": "integer", "minimum": 1, "default": 1,
                "description": "CPU threads per training job."},
    "gpus": {"type": "integer", "minimum": 0, "default": 0,
             "description": "GPUs per training job (Snakemake resource `gpu`); 0 = CPU."},
}

from biasamp.models import clip, coca  # noqa: E402,F401  (register the kinds)


def is_captioner(settings: dict) -> bool:
    """Whether a model entry's kind writes captions (and so gets a caption job)."""
    return hasattr(MODELS.get(settings["kind"]).implementation, "caption")
