# Config validation, wildcard constraints, paths and every input function of the workflow.
# (The Snakefile puts the package in src/ on the path, before the config is read.)
import functools
from pathlib import Path

from snakemake.exceptions import WorkflowError

import biasamp
from biasamp.config import ConfigError, validate_config
from biasamp.datasets import DATASETS
from biasamp.figures import FIGURES, figure_captions, figure_plan, write_captions
from biasamp.fingerprint import code_fingerprint
from biasamp.generators import GENERATORS
from biasamp.metrics import SUITES, study_metrics
from biasamp.models import MODELS, writes_captions
from biasamp.study import (
    ROUND_SEGMENT,
    block_shards,
    factor_blocks,
    generation_plan,
    ratio_label,
    round_number,
    round_segment,
    study_rounds,
)
from biasamp.wordlists import VERSION as WORDLISTS_VERSION

biasamp.export_to_jobs()
try:
    validate_config(config)
except ConfigError as error:
    raise WorkflowError(f"Invalid config: {error}") from None

# "test" is each dataset's own test split; the others are entries of evaluation.sets
EVALSETS = ["test", *config["evaluation"]["sets"]]
ENV = "../../envs/biasamp.yaml"
DATA = "results/{dataset}/data"
EVALSET = "results/evalsets/{evalset}"
# a chain: what one (dataset, generator, ratio, seed) makes in a feedback round; {round} is
# empty in round 1 (a study without rounds keeps its paths) and /round~r later
CHAIN = "{generator}{round}/ratio~{ratio}/seed~{seed}"
MIX = f"results/{{dataset}}/mixes/{CHAIN}"
MODEL = f"results/{{dataset}}/models/{CHAIN}/{{model}}"
EVALUATION = f"results/{{dataset}}/evaluation/{CHAIN}"


wildcard_constraints:
    dataset="|".join(config["datasets"]),
    generator="|".join(config["generators"]),
    model="|".join(config["models"]),
    evalset="|".join(EVALSETS),
    ratio=r"[01](\.[0-9]+)?",
    round=ROUND_SEGMENT,
    seed=r"[0-9]+",
    shard=r"[0-9]+",
    block=r"[0-9]+",


def dataset_settings(wildcards):
    return config["datasets"][wildcards.dataset]


def generator_settings(wildcards):
    return config["generators"][wildcards.generator]


def generator_kind(wildcards):
    return GENERATORS.get(generator_settings(wildcards)["kind"]).implementation


def model_settings(wildcards):
    return config["models"][wildcards.model]


def train_threads(wildcards):
    """A training job's cores: the model's compute threads plus its data-loader workers (per
    process; one process per GPU)."""
    settings = model_settings(wildcards)
    return settings["threads"] + settings["workers"] * max(1, settings["gpus"])


def evalset_settings(wildcards):
    return config["evaluation"]["sets"][wildcards.evalset]


def writes_archive(settings):
    """Whether an entry's dataset kind stores its images in an archive (the toy world) rather
    than referencing the user's files in place."""
    return DATASETS.get(settings["kind"]).archive


def names_where(entries, condition):
    """A wildcard constraint matching the entries that satisfy ``condition`` (or nothing)."""
    return "|".join(n for n, s in entries.items() if condition(s)) or "(?!)"


def prepared_files(folder, settings):
    """A prepared dataset's files: its manifest, and its image archive where its kind writes
    one."""
    archive = [f"{folder}/images.tar"] if writes_archive(settings) else []
    return {"dataset": f"{folder}/manifest.parquet", "images": archive}


def dataset_archive(wildcards):
    """The dataset's image archive, where its kind writes one."""
    return prepared_files(DATA.format(**wildcards), dataset_settings(wildcards))[
        "images"
    ]


def evaluation_images(wildcards):
    """The manifest a model is evaluated on, and the archive of its images where there is one:
    its dataset's (evalset test), or an evaluation set's."""
    if wildcards.evalset == "test":
        return prepared_files(DATA.format(**wildcards), dataset_settings(wildcards))
    return prepared_files(EVALSET.format(**wildcards), evalset_settings(wildcards))


def evaluation_settings(wildcards):
    """An evaluate job's slice of the config: what can change its result (adding an evaluation
    set reruns nothing; threads, workers and batch size are the scripts' to read, not params;
    the detectability probe's settings only where it runs, on the test split)."""
    probe = () if wildcards.evalset == "test" else PROBE_KEYS
    return {
        k: v
        for k, v in config["evaluation"].items()
        if k not in ("sets", "threads", "batch_size", "workers", *probe)
    }


PROBE_KEYS = ("detectability_images", "detectability_folds")


def result_settings(settings):
    """An entry's settings as a job's params: without `threads`, which changes no result."""
    return {k: v for k, v in settings.items() if k != "threads"}


def model_params(wildcards):
    return result_settings(model_settings(wildcards))


SCRIPTS = Path(workflow.current_basedir).parent / "scripts"
MIX_SUITE_MODULES = [suite.module for suite in SUITES if suite.measures_mixes]
FIGURE_MODULES = [figure.module for figure in FIGURES]


@functools.cache  # the sources do not change during a run; thousands of jobs ask
def code(script, *modules, data=()):
    """Fingerprint of a rule's script: the package modules it imports (followed through the
    import graph), plus ``modules`` (registry entries it runs) and package ``data`` files.
    """
    return code_fingerprint(*modules, script=str(SCRIPTS / f"{script}.py"), data=data)


def kind_code(script, registry, settings_of, data=()):
    """The fingerprint of a rule whose job runs the kind its entry is configured with."""

    def fingerprint(wildcards):
        return code(
            script, registry.get(settings_of(wildcards)["kind"]).module, data=data
        )

    return fingerprint


def evaluate_code(wildcards):
    """The evaluate job's fingerprint: its model kind and the suites that measure it."""
    kind = MODELS.get(model_settings(wildcards)["kind"])
    captions = kind.implementation.writes_captions
    suites = [suite.module for suite in SUITES if suite.applies_to(captions)]
    return code("evaluate", kind.module, *suites)


def model_captions(wildcards):
    """The captions a captioning model wrote for the evaluation images ([] for others)."""
    if not writes_captions(model_settings(wildcards)):
        return []
    return f"{EVALUATION}/{{model}}/{{evalset}}.captions.csv".format(**wildcards)


# a study of ratio 0 alone generates nothing: no image factors, contact sheets or their figures
GENERATES = max(config["ratios"]) > 0
CAPTIONING = any(writes_captions(m) for m in config["models"].values())
# the metrics the study's table can hold (with their directions), and the files of every
# registered figure
STUDY_METRICS = study_metrics(config["evaluation"], CAPTIONING, GENERATES)
METRIC_DIRECTIONS = {metric.name: metric.direction.value for metric in STUDY_METRICS}
METRIC_RESTS_ON = {m.name: m.rests_on for m in STUDY_METRICS if m.rests_on}
METRIC_BLIND_VALUES = {
    m.name: m.blind_value for m in STUDY_METRICS if m.blind_value is not None
}
FIGURE_PLAN = figure_plan(
    STUDY_METRICS, image_factors=GENERATES, rounds=config["rounds"] > 1
)
# what the figures say about each metric: which way is worse, and values with a meaning
METRIC_INFO = {
    m.name: {
        "direction": m.direction.value,
        "references": [list(r) for r in m.references],
    }
    for m in STUDY_METRICS
}
# each figure's caption, category and subcategory in the report (snakemake --report); the
# report reads captions from files, written under .snakemake/ when they change
FIGURE_REPORT = figure_captions(
    FIGURE_PLAN,
    METRIC_INFO,
    {
        m.name: suite.name
        for suite in SUITES
        for m in suite.metrics(config["evaluation"])
    },
)
FIGURE_CAPTIONS = write_captions(FIGURE_REPORT, ".snakemake/biasamp/captions")
# the format the report shows (PNG where written; the other formats stay files)
REPORT_FORMAT = (
    "png" if "png" in config["plot"]["formats"] else config["plot"]["formats"][0]
)


def planned_images(wildcards, ratios, seeds):
    """Which images a generator's jobs render for mixes of ``ratios`` and ``seeds``: those
    the mixes use (biasamp.study)."""
    return generation_plan(
        ratios,
        seeds,
        withheld_possible=generator_kind(wildcards).may_withhold(
            generator_settings(wildcards)
        ),
        mixing=config["mixing"],
    )


def images_to_generate(wildcards):
    """Which images the generate jobs render: those some mix of the study uses."""
    return planned_images(wildcards, config["ratios"], config["seeds"])


SHARD = "results/{dataset}/generated/{generator}/shard-{shard}"
GENERATED = "results/{dataset}/generated/{generator}/manifest.parquet"
CONTACT_SHEET = "results/figures/images/{dataset}/{generator}.png"
PROBE = "results/{dataset}/generated/{generator}/probe"
FACTOR_BLOCK = "results/{dataset}/factors/{generator}/block-{block}"
IMAGE_FACTORS = "results/image_factors.parquet"
IMAGE_FACTORS_SUMMARY = "results/image_factors.csv"


# feedback rounds: what a chain's generator learnt, and the images it renders, in round >= 2
ADAPTER = f"results/{{dataset}}/adapted/{CHAIN}"
ROUND_SHARD = f"results/{{dataset}}/generated/{CHAIN}/shard-{{shard}}"
ROUND_GENERATED = f"results/{{dataset}}/generated/{CHAIN}/manifest"


def previous_mix(wildcards):
    """The training mix a chain's generator adapts to: the chain's mix of the round before."""
    number = round_number(wildcards.round)
    if number < 2:
        raise WorkflowError(
            "round 1's generator is not adapted (it learns from the data)"
        )
    return f"{MIX}/manifest.parquet".format(
        **{**wildcards, "round": round_segment(number - 1)}
    )


def adaptation_settings(wildcards):
    """An adapt job's slice of the config: its generator's settings, but the shard count."""
    return {k: v for k, v in generator_settings(wildcards).items() if k != "shards"}


def adaptation_code(wildcards):
    """The adapt job's fingerprint: its kind's adapter module (not the generator's own)."""
    kind = GENERATORS.get(generator_settings(wildcards)["kind"])
    return code("adapt", kind.adapter)


def rendering_settings(wildcards):
    """A generate job's slice of its generator's settings: all but how it is adapted in
    feedback rounds (a later round's adaptation reaches its images as the adapter input).
    """
    return {k: v for k, v in generator_settings(wildcards).items() if k != "adaptation"}


def chain_images(wildcards):
    """Which images a chain's generate jobs render in a later round: those of its own mix."""
    return planned_images(wildcards, [float(wildcards.ratio)], [int(wildcards.seed)])


def round_shards(wildcards, ext="parquet"):
    """A chain's generation shards in a later round (manifests, or archives)."""
    return expand(
        f"{ROUND_SHARD}.{ext}",
        shard=range(generator_settings(wildcards)["shards"]),
        **wildcards,
    )


def round_files():
    """The adapted generators and generation shards of every later round's chains."""
    chains = [
        (dataset, name, settings, number, ratio, seed)
        for number, ratios in study_rounds(config["rounds"], config["ratios"])[1:]
        for dataset in config["datasets"]
        for name, settings in config["generators"].items()
        for ratio in ratios
        for seed in config["seeds"]
    ]
    files = []
    for dataset, name, settings, number, ratio, seed in chains:
        keys = dict(
            dataset=dataset,
            generator=name,
            round=round_segment(number),
            ratio=ratio_label(ratio),
            seed=seed,
        )
        files.append(ADAPTER.format(**keys))
        files += [
            f"{ROUND_SHARD}.{ext}".format(shard=k, **keys)
            for k in range(settings["shards"])
            for ext in ("parquet", "tar")
        ]
    return files


def generation_shards(wildcards, ext="parquet"):
    """All of a generator's shards (manifests, or archives with ``ext="tar"``)."""
    return expand(
        f"{SHARD}.{ext}",
        dataset=wildcards.dataset,
        generator=wildcards.generator,
        shard=range(generator_settings(wildcards)["shards"]),
    )


def generated_images(wildcards):
    """The manifest of a generator's images a mix draws on (in a later feedback round, its
    chain's), or none at ratio 0 (which uses no generated image, so a baseline-only study
    generates nothing)."""
    if float(wildcards.ratio) == 0:
        return []
    if wildcards.round:
        return f"{ROUND_GENERATED}.parquet".format(**wildcards)
    return GENERATED.format(dataset=wildcards.dataset, generator=wildcards.generator)


# the detectability probe: generated images of test captions, in studies that generate
PROBING = GENERATES and config["evaluation"]["detectability_images"] > 0


def probe_generator_settings(wildcards):
    """The probe job's generator settings: its images do not depend on the shard count."""
    return {k: v for k, v in rendering_settings(wildcards).items() if k != "shards"}


def probe_images(wildcards):
    """The probe's generated images (manifest, archive) for an evaluation on the dataset's own
    test split, whose captions they render (none for other evaluation sets)."""
    if not PROBING or wildcards.evalset != "test":
        return []
    return [f"{PROBE}.{ext}".format(**wildcards) for ext in ("parquet", "tar")]


def factor_block_inputs(wildcards, ext):
    """The generation shards (``ext``: parquet or tar) of one image_factors job's block."""
    return expand(
        f"{SHARD}.{ext}",
        dataset=wildcards.dataset,
        generator=wildcards.generator,
        shard=block_shards(
            int(wildcards.block), generator_settings(wildcards)["shards"]
        ),
    )


def factor_blocks_by_generator():
    """``[dataset, generator, [its image-factor blocks]]`` of every generator of the study
    (none when it generates nothing)."""
    if not GENERATES:
        return []
    return [
        [
            d,
            g,
            expand(
                f"{FACTOR_BLOCK}.parquet",
                dataset=d,
                generator=g,
                block=range(factor_blocks(s["shards"])),
            ),
        ]
        for d in config["datasets"]
        for g, s in config["generators"].items()
    ]


def factor_block_files():
    return [path for _, _, paths in factor_blocks_by_generator() for path in paths]


def probe_files():
    if not PROBING:
        return []
    return expand(
        f"{PROBE}.{{ext}}",
        dataset=config["datasets"],
        generator=config["generators"],
        ext=["parquet", "tar"],
    )


def study_grid(pattern):
    """``pattern`` over the study's grid: every round's chains (round 1 with every ratio,
    later rounds with the nonzero ones), models and evaluation sets."""
    return [
        path
        for number, ratios in study_rounds(config["rounds"], config["ratios"])
        for path in expand(
            pattern,
            dataset=config["datasets"],
            generator=config["generators"],
            round=round_segment(number),
            ratio=[ratio_label(r) for r in ratios],
            seed=config["seeds"],
            model=config["models"],
            evalset=EVALSETS,
        )
    ]


def measurement_tables():
    return sorted(
        set(
            study_grid(f"{EVALUATION}/{{model}}/{{evalset}}.csv")
            + study_grid(f"{EVALUATION}/mix_metrics.csv")
        )
    )


def study_files():
    """Every file the study makes, intermediates included: a deleted or damaged one is then
    rebuilt (with what depends on it) rather than silently missing. Snakemake alone only
    rebuilds an intermediate file when something downstream is out of date."""
    prepared = [
        prepared_files(f"results/{name}/data", settings)
        for name, settings in config["datasets"].items()
    ] + [
        prepared_files(f"results/evalsets/{name}", settings)
        for name, settings in config["evaluation"]["sets"].items()
    ]
    datasets = [
        path for files in prepared for path in [files["dataset"], *files["images"]]
    ]
    shards = []
    if GENERATES:
        shards = [
            f"results/{dataset}/generated/{name}/shard-{k}.{ext}"
            for dataset in config["datasets"]
            for name, settings in config["generators"].items()
            for k in range(settings["shards"])
            for ext in ("parquet", "tar")
        ]
    captions = [
        path
        for path in study_grid(f"{EVALUATION}/{{model}}/{{evalset}}.captions.csv")
        if writes_captions(config["models"][path.split("/")[-2]])
    ]
    return sorted(
        set(
            datasets
            + shards
            + round_files()
            + study_grid(f"{MIX}/manifest.parquet")
            + study_grid(f"{MODEL}/model.pt")
            + captions
            + factor_block_files()
            + probe_files()
        )
    )


def figure_paths():
    return expand(
        "results/figures/{stem}.{ext}",
        stem=[stem for _, stem, _ in FIGURE_PLAN],
        ext=config["plot"]["formats"],
    )


def figure_outputs():
    """The plot rule's outputs: the figures in the report's format marked for the report, each
    with its caption and place there."""
    return [
        reported_figure(path) if path.endswith(f".{REPORT_FORMAT}") else path
        for path in figure_paths()
    ]


def reported_figure(path):
    entry, stem = FIGURE_REPORT[Path(path).stem], Path(path).stem
    return report(
        path,
        caption=FIGURE_CAPTIONS[stem],
        category=entry["category"],
        subcategory=entry["subcategory"],
        labels={"figure": stem},
    )


def final_outputs():
    sheets = []
    if GENERATES:
        sheets = [
            IMAGE_FACTORS_SUMMARY,
            *expand(
                CONTACT_SHEET,
                dataset=config["datasets"],
                generator=config["generators"],
            ),
        ]
    return [
        "results/metrics.csv",
        "results/trends.csv",
        "results/provenance.json",
        *figure_paths(),
        *sheets,
        *study_files(),
    ]


def measurement_keys(wildcards):
    """The table keys of one job, from its wildcards."""
    return {
        "dataset": wildcards.dataset,
        "generator": wildcards.generator,
        "round": round_number(wildcards.round),
        "ratio": float(wildcards.ratio),
        "seed": int(wildcards.seed),
        "model": wildcards.get("model", ""),
        "evalset": wildcards.get("evalset", ""),
    }
