"""Image factors: formulas on hand-built images, intervals against scipy, and the toy generator's
planted face blur recovered as a sharpness gap."""

import numpy as np
import pandas as pd
import pytest
from PIL import Image, ImageFilter
from scipy import stats

from biasamp import factor_tables as t
from biasamp import image_factors as f
from biasamp.config import validate_entry
from biasamp.datasets import DATASETS
from biasamp.generate import generate_shard


def test_luminance_and_contrast_of_known_colours():
    # BT.601: Y = 0.299 R + 0.587 G + 0.114 B
    assert f.luminance(np.full((3, 3, 3), [255, 0, 0])) == pytest.approx(76.245)
    assert f.luminance(np.full((3, 3, 3), [10, 20, 30])) == pytest.approx(18.15)
    assert f.luminance(np.full((3, 3, 3), 255)) == pytest.approx(255)
    half = np.zeros((4, 4, 3))
    half[:, :2] = 255  # half black, half white: std of Y is 127.5
    assert f.contrast(half) == pytest.approx(127.5)
    assert f.contrast(np.full((4, 4, 3), 77)) == 0


def test_colourfulness_of_flat_and_mixed_images():
    assert f.colourfulness(np.full((5, 5, 3), 128)) == 0
    # half pure red, half pure blue: rg = 255 | 0, yb = 127.5 | -255
    image = np.zeros((2, 2, 3))
    image[0] = [255, 0, 0]
    image[1] = [0, 0, 255]
    sigma = np.hypot(127.5, 191.25)  # std of rg: 127.5, of yb: (127.5 + 255) / 2
    mu = np.hypot(127.5, -63.75)
    assert f.colourfulness(image) == pytest.approx(sigma + 0.3 * mu)


def test_sharpness_is_the_variance_of_the_4_neighbour_laplacian():
    image = np.zeros((f.SHARPNESS_SIDE, f.SHARPNESS_SIDE, 3))
    image[30, 30] = 1  # Y = 1 at one pixel: the Laplacian is -4 there, 1 at its 4 neighbours
    n = f.SHARPNESS_SIDE**2
    assert f.sharpness(image) == pytest.approx(20 / n - (0 / n) ** 2)
    rng = np.random.default_rng(0)
    noisy = Image.fromarray(rng.integers(0, 256, (96, 96, 3), dtype=np.uint8))
    blurred = noisy.filter(ImageFilter.GaussianBlur(2))
    assert f.sharpness(np.asarray(blurred)) < f.sharpness(np.asarray(noisy)) / 10
    # the face box: only its region counts
    sharp_face = np.asarray(blurred).copy()
    sharp_face[10:40, 10:40] = np.asarray(noisy)[10:40, 10:40]
    assert f.sharpness(sharp_face, (10, 10, 40, 40)) == pytest.approx(
        f.sharpness(np.asarray(noisy)[10:40, 10:40]))
    with pytest.raises(ValueError, match="outside the image"):
        f.sharpness(sharp_face, (200, 200, 300, 300))


def drawn_face(size: int) -> np.ndarray:
    """A frontal face drawn in grey light: skin oval, brows, eyes, nose and mouth."""
    from PIL import ImageDraw

    s = size / 200
    image = Image.new("RGB", (size, size), (200, 200, 200))
    draw = ImageDraw.Draw(image)
    draw.ellipse([50 * s, 30 * s, 150 * s, 170 * s], fill=(225, 180, 150))
    for x in (68, 108):
        draw.rectangle([x * s, 70 * s, (x + 24) * s, 76 * s], fill=(60, 40, 30))
        draw.ellipse([(x + 2) * s, 82 * s, (x + 22) * s, 94 * s], fill=(40, 30, 30))
    draw.polygon([(100 * s, 95 * s), (92 * s, 122 * s), (108 * s, 122 * s)], fill=(200, 150, 125))
    draw.ellipse([80 * s, 132 * s, 120 * s, 146 * s], fill=(150, 60, 60))
    return np.asarray(image.filter(ImageFilter.GaussianBlur(2 * s)))


@pytest.mark.parametrize("size", [120, 600])  # 600: searched on a copy shrunk to 256
def test_the_haar_cascade_finds_a_drawn_face_in_the_images_pixels(size):
    x0, y0, x1, y1 = f.detect_face(drawn_face(size))
    centre = np.array([(x0 + x1) / 2, (y0 + y1) / 2]) / size
    assert centre == pytest.approx([0.5, 0.5], abs=0.08)
    assert 0.4 < (x1 - x0) / size < 0.95
    factors = f.measure_image(drawn_face(size))
    assert factors["face_found"] == 1
    assert factors["sharpness"] == pytest.approx(
        f.sharpness(drawn_face(size), (x0, y0, x1, y1)))


def test_faces_known_or_detected():
    flat = np.full((80, 80, 3), 120, dtype=np.uint8)
    assert f.detect_face(flat) is None  # the cascade loads and finds nothing in a grey image
    assert f.measure_image(flat)["face_found"] == 0
    assert f.measure_image(flat, face_box=(0, 0, 40, 40))["face_found"] == 1


def test_intervals_agree_with_scipy():
    rng = np.random.default_rng(1)
    g, r = rng.normal(1, 2, 40), rng.normal(0, 1, 25)
    row = t.difference_row(g, r, 0.9)
    welch = stats.ttest_ind(g, r, equal_var=False).confidence_interval(0.9)
    assert row["mean"] == pytest.approx(g.mean() - r.mean())
    assert (row["ci_low"], row["ci_high"]) == pytest.approx((welch.low, welch.high))
    one = t.mean_row(g, 0.95)
    reference = stats.ttest_1samp(g, 0).confidence_interval(0.95)
    assert (one["ci_low"], one["ci_high"]) == pytest.approx((reference.low, reference.high))
    assert np.isnan(t.difference_row(g, r[:1], 0.95)["ci_low"])
    assert np.isnan(t.difference_row(g, r[:0], 0.95)["mean"])


def test_summary_rows_by_source_and_group():
    per_image = pd.DataFrame({
        "id": list("abcd"), "source": ["real", "real", "generated", "generated"],
        "gender": ["female", "male", "female", "male"],
        **{factor: [1.0, 2.0, 4.0, 8.0] for factor in f.FACTORS}})
    summary = t.summarise(per_image, "toy", "g", 0.95)
    assert set(summary["source"]) == {"real", "generated", t.GAP}
    assert set(summary["group"]) == {"", "gender:female", "gender:male"}
    gap = summary.set_index(["source", "factor", "group"])
    assert gap.loc[(t.GAP, "sharpness", ""), "mean"] == pytest.approx(6 - 1.5)
    assert gap.loc[(t.GAP, "sharpness", "gender:male"), "mean"] == pytest.approx(6)
    assert gap.loc[("real", "luminance", "gender:female"), "n"] == 1


@pytest.fixture(scope="module")
def toy_world(tmp_path_factory):
    root = tmp_path_factory.mktemp("factors")
    settings = validate_entry("datasets", "toy", {"kind": "toy", "n_images": 300})
    DATASETS.get("toy").implementation(settings, str(root / "manifest.parquet"))
    return root


def sharpness_gaps(root, blur: float) -> pd.Series:
    settings = validate_entry("generators", "g", {"kind": "toy", "face_blur": blur,
                                                  "shards": 1})
    shard = root / f"blur{blur}"
    generate_shard(settings, "g", str(root / "manifest.parquet"), 0, 0,
                   str(shard.with_suffix(".parquet")), str(shard.with_suffix(".tar")))
    per_image = f.measure_shards(str(root / "manifest.parquet"),
                                 [str(shard.with_suffix(".parquet"))],
                                 str(shard.with_suffix(".factors.parquet")))
    assert set(per_image["source"]) == {"real", "generated"}
    assert per_image["face_found"].eq(1).all()  # the toy world knows every head box
    summary = t.summarise(per_image, "toy", "g", 0.95)
    return summary[(summary["source"] == t.GAP) & (summary["factor"] == "sharpness")] \
        .set_index("group")


def test_planted_face_blur_is_a_sharpness_gap_that_grows_with_the_radius(toy_world):
    gaps = {blur: sharpness_gaps(toy_world, blur) for blur in (0.0, 0.5, 1.5)}
    none = gaps[0.0]
    # no blur: generated faces are as sharp as real ones, overall and in every group
    assert ((none["ci_low"] < 0) & (none["ci_high"] > 0)).all(), none
    for blur in (0.5, 1.5):
        assert (gaps[blur]["ci_high"] < 0).all(), gaps[blur]  # blurrier, in every group
    assert gaps[1.5].loc["", "mean"] < gaps[0.5].loc["", "mean"] < 0
