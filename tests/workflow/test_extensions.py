"""Extension points: a metric suite, a figure and a generator kind are each one module, found
by their registries; the workflow derives its jobs, table rows and figures from them."""

import pytest
import yaml
from helpers import TINY_STUDY, copy_workflow, planned_jobs, snakemake

from biasamp import tables

pytestmark = pytest.mark.workflow

SUITE = '''"""A new suite: how many evaluation images have each known gender."""
from biasamp.metrics import SUITES, Direction, Metric


@SUITES.register("image_count", needs=frozenset(),
                 metrics=lambda evaluation: [Metric("evaluation_images", Direction.NEITHER)])
def measure(inputs):
    return [("evaluation_images", "", float(len(inputs.images)))] + [
        ("evaluation_images", f"gender:{g}", float((inputs.images["gender"] == g).sum()))
        for g in inputs.attribute_values.get("gender", [])]
'''

FIGURE = '''"""A new study-level figure: every quality metric's overall value in one panel."""
from biasamp.figures import FIGURES


@FIGURES.register("quality_overview", outputs=lambda metrics: [
    ("quality_overview", [m.name for m in metrics if m.direction == "quality"])])
def draw(rows, trends, metrics, interval, style):
    import seaborn as sns

    rows = rows[rows["group"] == ""]
    return sns.relplot(data=rows, kind="line", x="ratio", y="value", hue="metric").figure
'''

GENERATOR = '''"""A new generator kind: a flat image in one colour for every prompt."""
from PIL import Image

from biasamp.generators import COMMON_SETTINGS, GENERATORS

SCHEMA = {"type": "object", "additionalProperties": False,
          "properties": {**COMMON_SETTINGS, "grey": {"type": "integer", "default": 128}}}


@GENERATORS.register("flat", schema=SCHEMA)
class Flat:
    def __init__(self, settings, reference):
        self.settings = settings

    @staticmethod
    def may_withhold(settings):
        return False

    def prompt(self, caption):
        return caption

    def generate(self, prompts, seeds):
        for _ in zip(prompts, seeds, strict=True):
            yield {"flagged": False}, Image.new("RGB", (64, 64), (self.settings["grey"],) * 3)
'''


def test_a_suite_a_figure_and_a_generator_kind_are_one_module_each(tmp_path):
    config = {**TINY_STUDY, "ratios": [0, 1],
              "generators": {**TINY_STUDY["generators"], "flat": {"kind": "flat", "shards": 1}}}
    workdir = copy_workflow(tmp_path, config)
    package = workdir / "src" / "biasamp"
    (package / "metrics" / "image_count.py").write_text(SUITE)
    (package / "figures" / "quality_overview.py").write_text(FIGURE)
    (package / "generators" / "flat.py").write_text(GENERATOR)
    snakemake(workdir)
    table = tables.read(workdir / "results" / "metrics.csv")
    counts = table[table["metric"] == "evaluation_images"]
    assert set(counts["generator"]) == {"toy-amplify", "flat"}
    n_test = counts.loc[counts["group"] == "", "value"].iloc[0]
    assert n_test == counts.loc[counts["group"].str.startswith("gender:"), "value"].sum() / 4
    figures = workdir / "results" / "figures"
    assert (figures / "evaluation_images.png").stat().st_size > 0  # the generic figure
    assert (figures / "quality_overview.png").stat().st_size > 0
    assert (workdir / "results/toy/generated/flat/shard-0.tar").exists()
    share = table[(table["metric"] == "mix_generated_share") & (table["generator"] == "flat")]
    assert sorted(share["value"]) == [0.0, 1.0]


def test_settings_that_change_no_result_schedule_nothing(tmp_path):
    workdir = copy_workflow(tmp_path, TINY_STUDY)
    snakemake(workdir, "--until", "evaluate")
    changed = yaml.safe_load(yaml.safe_dump(TINY_STUDY))
    changed["evaluation"].update(threads=2, batch_size=7)
    changed["models"]["clip"]["threads"] = 2
    (workdir / "config" / "config.yaml").write_text(yaml.safe_dump(changed))
    assert planned_jobs(snakemake(workdir, "-n", "--until", "evaluate")) == {}
