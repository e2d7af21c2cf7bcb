from helpers import REPO

from biasamp.fingerprint import ROOT, closure, code_fingerprint, script_modules


def names(entry):
    return {str(p.relative_to(ROOT)) for p in closure(entry)}


def test_closures_follow_package_imports():
    evaluate = names("biasamp.evaluate")
    assert {"evaluate.py", "metrics/__init__.py", "models/__init__.py", "manifest.py",
            "tables.py", "registry.py", "__init__.py"} <= evaluate
    train = names("biasamp.models.clip")
    assert "models/clip.py" in train and "imagestore.py" in train
    # a metric fix must not retrain: no metric module in the training closure
    assert not any(n.startswith("metrics/") for n in train)


def test_a_registry_does_not_pull_in_every_entry():
    # registries find their modules themselves: a toy shard does not depend on the diffusers
    # code, and evaluating does not depend on a suite unless the rule names the suites
    generate = names("biasamp.generate")
    assert "generators/__init__.py" in generate and "registry.py" in generate
    assert not {"generators/diffusion.py", "generators/toy.py"} & generate
    assert not {"metrics/fairness.py", "metrics/retrieval.py"} & names("biasamp.evaluate")
    toy = names("biasamp.generators.toy")
    assert "generators/toy.py" in toy and "generators/diffusion.py" not in toy
    assert "datasets/coco.py" in names("biasamp.datasets.coco_demographics")  # a real import


def test_a_scripts_modules_are_read_from_its_imports():
    scripts = REPO / "workflow" / "scripts"
    assert script_modules(scripts / "evaluate.py") == ("biasamp", "biasamp.evaluate",
                                                       "biasamp.gpus", "biasamp.joblog",
                                                       "biasamp.warmstart")
    assert script_modules(scripts / "train.py") == ("biasamp", "biasamp.gpus", "biasamp.joblog",
                                                    "biasamp.models", "biasamp.warmstart")


def test_fingerprint_changes_with_code_and_data():
    a = code_fingerprint("biasamp.mix")
    assert a == code_fingerprint("biasamp.mix") and len(a) == 16
    assert a != code_fingerprint("biasamp.mix", data=("model_configs/*.json",))
    assert a != code_fingerprint("biasamp.mix", script=str(REPO / "workflow/scripts/plot.py"))
