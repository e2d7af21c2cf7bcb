# Config validation, wildcard constraints, paths and every input function of the workflow.
import sys
from pathlib import Path

from snakemake.exceptions import WorkflowError

# The package lives in src/; jobs (local, conda or SLURM) import it from there too, so the
# code that runs is always the code that was fingerprinted.
sys.path.insert(0, str(Path(workflow.basedir) / "src"))

import biasamp
from biasamp.config import ConfigError, validate_config
from biasamp.datasets import DATASETS
from biasamp.evaluate import metric_names
from biasamp.fingerprint import code_fingerprint
from biasamp.generators import GENERATORS
from biasamp.models import MODELS, is_captioner
from biasamp.plot import figure_stem
from biasamp.study import generation_plan, ratio_label
from biasamp.wordlists import VERSION as WORDLISTS_VERSION

biasamp.export_to_jobs()
try:
    validate_config(config)
except ConfigError as error:
    raise WorkflowError(f"Invalid config: {error}") from None

RATIOS = [ratio_label(r) for r in config["ratios"]]
# "test" is each dataset's own test split; the others are entries of evaluation.sets
EVALSETS = ["test", *config["evaluation"]["sets"]]
ENV = "../../envs/biasamp.yaml"
MIX = "results/{dataset}/mixes/{generator}/ratio~{ratio}/seed~{seed}"
MODEL = "results/{dataset}/models/{generator}/ratio~{ratio}/seed~{seed}/{model}"
EVALUATION = "results/{dataset}/evaluation/{generator}/ratio~{ratio}/seed~{seed}"


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    generator="|".join(config["generators"]),
    model="|".join(config["models"]),
    evalset="|".join(EVALSETS),
    ratio=r"[01](\.[0-9]+)?",
    seed=r"[0-9]+",
    shard=r"[0-9]+",


def dataset_settings(wildcards):
    return config["datasets"][wildcards.dataset]


def generator_settings(wildcards):
    return config["generators"][wildcards.generator]


def model_settings(wildcards):
    return config["models"][wildcards.model]


def evalset_settings(wildcards):
    return config["evaluation"]["sets"][wildcards.evalset]


def evaluation_images(wildcards):
    """The manifest a model is evaluated on: its dataset's, or an evaluation set's."""
    if wildcards.evalset == "test":
        return f"results/{wildcards.dataset}/data/manifest.parquet"
    return f"results/evalsets/{wildcards.evalset}/manifest.parquet"


def evaluation_settings():
    """The evaluate jobs' slice of the config (adding an evaluation set reruns nothing)."""
    return {k: v for k, v in config["evaluation"].items() if k != "sets"}


def kind_code(registry, settings, *entries, data=()):
    """Fingerprint of a step's modules plus the module of the kind it is configured with."""
    kind = registry.get(settings["kind"]).implementation.__module__
    return code_fingerprint(*entries, kind, data=data)


def dataset_code(wildcards):
    return kind_code(DATASETS, dataset_settings(wildcards), "biasamp.datasets")


def evalset_code(wildcards):
    return kind_code(DATASETS, evalset_settings(wildcards), "biasamp.datasets")


def generator_code(wildcards):
    return kind_code(GENERATORS, generator_settings(wildcards), "biasamp.generate")


def model_code(wildcards):
    return kind_code(MODELS, model_settings(wildcards), data=("model_configs/*.json",))


def evaluate_code(wildcards):
    return kind_code(MODELS, model_settings(wildcards), "biasamp.evaluate")


def caption_code(wildcards):
    return kind_code(MODELS, model_settings(wildcards))


def model_captions(wildcards):
    """The captions a captioning model wrote for the evaluation images ([] for others)."""
    if not is_captioner(model_settings(wildcards)):
        return []
    return f"{EVALUATION}/{{model}}/{{evalset}}.captions.csv".format(**wildcards)


CAPTIONING = any(is_captioner(m) for m in config["models"].values())


def images_to_generate(wildcards):
    """Which images the generate jobs render: those some mix uses (biasamp.study)."""
    return generation_plan(
        config["ratios"],
        config["seeds"],
        withheld_possible=bool(generator_settings(wildcards).get("safety_checker")),
    )


def generation_shards(wildcards):
    return expand(
        "results/{dataset}/generated/{generator}/shard-{shard}.parquet",
        dataset=wildcards.dataset,
        generator=wildcards.generator,
        shard=range(generator_settings(wildcards)["shards"]),
    )


def study_grid(pattern):
    return expand(
        pattern,
        dataset=config["datasets"],
        generator=config["generators"],
        ratio=RATIOS,
        seed=config["seeds"],
        model=config["models"],
        evalset=EVALSETS,
    )


def measurement_tables():
    return sorted(
        set(
            study_grid(f"{EVALUATION}/{{model}}/{{evalset}}.csv")
            + study_grid(f"{EVALUATION}/mix_metrics.csv")
        )
    )


def figure_paths():
    return expand(
        "results/figures/{stem}.{ext}",
        stem=[figure_stem(m) for m in metric_names(config["evaluation"], CAPTIONING)],
        ext=config["plot"]["formats"],
    )


def final_outputs():
    return ["results/metrics.csv", "results/provenance.json", *figure_paths()]


def measurement_keys(wildcards):
    """The table keys of one job, from its wildcards."""
    return {
        "dataset": wildcards.dataset,
        "generator": wildcards.generator,
        "ratio": float(wildcards.ratio),
        "seed": int(wildcards.seed),
        "model": wildcards.get("model", ""),
        "evalset": wildcards.get("evalset", ""),
    }
