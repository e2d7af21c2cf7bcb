"""The metric suite registry: every suite declares its metrics, directions and needs, and the
README documents every metric it registers."""

from helpers import REPO

from biasamp.metrics import NEEDS, SUITES, Direction, study_metrics

# evaluation settings with symbolic cut-offs: the names come out as the README writes them
SYMBOLIC = {"recall_k": ["k"], "bias_k": "k", "skew_targets": ["uniform", "parity"],
            "caption_scorers": ["bleu", "meteor", "rouge_l", "cider", "spice"],
            "detectability_images": 500, "sets": {"faces": {"kind": "fairface"}}}


def test_every_registered_metric_is_in_the_readme_table():
    readme = (REPO / "README.md").read_text()
    table = readme.split("\n## Metrics\n", 1)[1].split("\n## ", 1)[0]
    names = [m.name for suite in SUITES for m in suite.metrics(SYMBOLIC)]
    assert {"recall@k", "maxskew@k", "bleu4", "mix_gender_bias"} <= set(names)
    first_cells = " ".join(line.split("|")[1] for line in table.splitlines()
                           if line.startswith("| `"))
    assert [n for n in names if f"`{n}`" not in first_cells] == []


def test_suites_declare_directions_and_needs():
    for suite in SUITES:
        assert suite.needs <= NEEDS and suite.module.startswith("biasamp.metrics.")
        assert all(isinstance(m.direction, Direction) for m in suite.metrics(SYMBOLIC))
    evaluation = {"recall_k": [1, 5], "bias_k": 10, "caption_scorers": ["bleu", "cider"],
                  "skew_targets": ["uniform"], "detectability_images": 500, "sets": {}}
    without = {m.name for m in study_metrics(evaluation, captioning=False)}
    with_captions = {m.name for m in study_metrics(evaluation, captioning=True)}
    assert {"recall@1", "recall@5", "maxskew@10", "minskew@10", "mix_generated_share"} <= without
    assert "maxskew_parity@10" not in without
    assert with_captions - without == {"bleu1", "bleu2", "bleu3", "bleu4", "cider",
                                       "caption_gender_error", "caption_gender_neutral",
                                       "caption_gender_ratio", "caption_gender_ratio_delta",
                                       "lic"}
    assert {"biasamp_t2a", "biasamp_a2t", "biasamp", "zeroshot_accuracy"} <= without
    # the probe where the study generates images; the audit where a set has no captions
    assert {"detectability_auc", "detectability_auc_gap"} <= without
    assert "detectability_auc" not in {
        m.name for m in study_metrics(evaluation, captioning=False, generates=False)}
    assert "detectability_auc" not in {
        m.name for m in study_metrics({**evaluation, "detectability_images": 0}, False)}
    assert "harmful_label_share" not in without
    assert "harmful_label_share" in {m.name for m in study_metrics(
        {**evaluation, "sets": {"geo": {"kind": "region_csv"}}}, captioning=False)}
    assert SUITES.get("captions").applies_to(writes_captions=True)
    assert not SUITES.get("captions").applies_to(writes_captions=False)
    assert not SUITES.get("mix_composition").applies_to(writes_captions=True)
