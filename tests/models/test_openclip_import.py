"""open_clip is imported without the optional libraries an architecture does not need
(:mod:`biasamp.openclip`): each is a share of every model job's start-up."""

import subprocess
import sys

import pytest

from biasamp.openclip import needed_libraries


@pytest.mark.parametrize(("arch", "needed"), [
    ("toy-CoCa", set()),                               # this package's configs
    ("toy-ViT", set()),
    ("RN50", set()),                                   # open_clip's own towers
    ("coca_ViT-B-32", set()),
    ("convnext_base", {"timm"}),                       # a timm image tower
    ("roberta-ViT-B-32", {"transformers"}),            # a Hugging Face text tower
    ("no-such-architecture", {"timm", "transformers"}),  # unknown: assume it needs both
])
def test_which_optional_libraries_an_architecture_needs(arch, needed):
    assert needed_libraries(arch) == needed


def run(code: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)


def test_a_job_imports_open_clip_without_what_its_architecture_does_not_use():
    result = run(
        "import sys\n"
        "from biasamp.openclip import import_open_clip\n"
        "open_clip = import_open_clip('toy-CoCa')\n"
        "print(sorted(m for m in ('timm', 'transformers') if m in sys.modules))\n"
        "model = open_clip.create_model('RN50')\n"  # builds without them
        "import timm\n"  # and they import normally afterwards
        "print(type(model).__name__, timm.__name__)\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split("\n")[:2] == ["[]", "CLIP timm"]


def test_a_timm_architecture_after_open_clip_was_imported_without_timm_gets_it():
    # e.g. a plan or an in-process study whose first model is toy-ViT, its second a timm tower;
    # also where something imported timm in between (open_clip still holds None for it)
    result = run(
        "from biasamp.openclip import import_open_clip\n"
        "import_open_clip('toy-ViT')\n"
        "import timm\n"
        "open_clip = import_open_clip('convnext_base')\n"
        "print(type(open_clip.create_model('convnext_base').visual).__name__)\n"
        "import_open_clip('roberta-ViT-B-32')\n"  # a Hugging Face text tower: the same
        "print(open_clip.hf_model.transformers.__name__)\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.split() == ["TimmModel", "transformers"]


def test_an_architecture_that_needs_timm_gets_it():
    result = run(
        "import sys\n"
        "from biasamp.openclip import import_open_clip\n"
        "import_open_clip('convnext_base')\n"
        "print('timm' in sys.modules, 'transformers' in sys.modules)\n")
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "True False"
