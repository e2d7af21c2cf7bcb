import numpy as np
import pytest

from biasamp import toyworld
from biasamp.toyworld import Scene


@pytest.mark.parametrize("neutral", [False, True])
def test_caption_round_trip(neutral):
    scene = Scene("female", "dark", "holding an umbrella", "at the beach", "yellow")
    caption = toyworld.caption_for(scene, neutral)
    parsed = toyworld.parse_caption(caption)
    assert parsed.gender == (None if neutral else "female")
    assert (parsed.activity, parsed.place, parsed.shirt) == (
        "holding an umbrella", "at the beach", "yellow")
    assert caption.startswith("a person" if neutral else "a woman")


def test_parse_rejects_text_outside_the_vocabulary():
    with pytest.raises(ValueError, match="not a toy-world caption"):
        toyworld.parse_caption("a dog in a red shirt riding a skateboard on the street")


def test_render_is_determined_by_the_rng():
    scene = Scene("male", "light", "flying a kite", "in the park", "red")
    a = np.asarray(toyworld.render(scene, np.random.default_rng(3), 32))
    b = np.asarray(toyworld.render(scene, np.random.default_rng(3), 32))
    c = np.asarray(toyworld.render(scene, np.random.default_rng(4), 32))
    assert a.shape == (32, 32, 3) and a.dtype == np.uint8
    assert np.array_equal(a, b) and not np.array_equal(a, c)


def test_attributes_are_visible():
    """Gender and skin tone change the pixels; the same rng otherwise draws the same scene."""
    base = Scene("male", "light", "using a laptop", "in the kitchen", "blue")
    img = lambda s: np.asarray(toyworld.render(s, np.random.default_rng(0)), dtype=float)  # noqa: E731
    woman = Scene("female", "light", "using a laptop", "in the kitchen", "blue")
    dark = Scene("male", "dark", "using a laptop", "in the kitchen", "blue")
    assert np.abs(img(base) - img(woman)).mean() > 5
    assert np.abs(img(base) - img(dark)).mean() > 2


def test_face_blur_changes_only_the_face():
    scene = Scene("female", "dark", "cutting a cake", "in the kitchen", "green")
    sharp = np.asarray(toyworld.render(scene, np.random.default_rng(1)), dtype=int)
    blurred = np.asarray(toyworld.render(scene, np.random.default_rng(1), face_blur=2.0), dtype=int)
    changed = np.argwhere(np.abs(sharp - blurred).sum(axis=2) > 0)
    assert len(changed) > 20
    x0, y0, x1, y1 = 28 - 4 - 8, 7, 28 + 4 + 8 + 1, 25 + 1  # head box over all jitters
    assert changed[:, 1].min() >= x0 and changed[:, 1].max() < x1
    assert changed[:, 0].min() >= y0 and changed[:, 0].max() < y1
