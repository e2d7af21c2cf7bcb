"""config/README.md is what the schemas say (python -m biasamp.config_reference)."""

from helpers import REPO

from biasamp.config_reference import render


def test_config_readme_is_current():
    committed = (REPO / "config" / "README.md").read_text()
    assert committed == render(), (
        "config/README.md is out of date with the schemas: regenerate it with "
        "`python -m biasamp.config_reference > config/README.md`")


def test_every_kind_and_key_is_documented():
    text = render()
    for key in ("`seeds`", "`evaluation.caption_scorers`", "`plot.interval`", "### `kind: toy`",
                "### `kind: diffusers`", "### `kind: coca`", "`caption_loss_weight`",
                "## `evaluation.sets`"):
        assert key in text, key
