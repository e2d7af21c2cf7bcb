import pandas as pd
import pytest

from biasamp import manifest
from biasamp.mix import mix, mix_measurements, n_replaced, replaced_positions


def frames(n=40):
    real = pd.DataFrame({
        "id": [f"r{i:03d}" for i in range(n)], "split": ["train"] * n, "source": "real",
        "caption": [f"caption {i}" for i in range(n)], "image_path": "real.tar",
        "image_offset": range(n), "image_length": 1,
        "gender": ["female" if i % 2 == 0 else "male" for i in range(n)], "activity": ["cook"] * n,
    })
    test_row = real.iloc[:1].assign(id="t0", split="test")
    generated = real.assign(
        id=lambda f: "g:" + f["id"], source="generated", source_id=real["id"],
        image_path="gen.tar", gender="female",
    )
    return pd.concat([real, test_row], ignore_index=True), generated


@pytest.mark.parametrize(("n", "ratio", "expected"),
                         [(40, 0.25, 10), (10, 0.25, 3), (4, 0.5, 2), (7, 1.0, 7), (7, 0.0, 0)])
def test_exact_counts(n, ratio, expected):
    assert n_replaced(n, ratio) == expected
    real, generated = frames(n)
    mixed = mix(real, generated, ratio, seed=0)
    assert len(mixed) == n
    assert (mixed["source"] == "generated").sum() == expected


def test_replaced_sets_are_nested_across_ratios_and_seeded():
    sets = [set(replaced_positions(100, r, seed=3)) for r in (0, 0.1, 0.25, 0.5, 0.9, 1.0)]
    assert all(a <= b for a, b in zip(sets[:-1], sets[1:], strict=True))
    assert set(replaced_positions(100, 0.5, 3)) == sets[3]  # deterministic
    assert set(replaced_positions(100, 0.5, 4)) != sets[3]  # the seed matters


def test_replacement_keeps_the_caption_and_the_training_order():
    real, generated = frames()
    mixed = mix(real, generated, 0.5, seed=1)
    assert mixed["source_id"].tolist() == sorted(real.loc[real.split == "train", "id"])
    swapped = mixed[mixed["source"] == "generated"]
    assert (swapped["id"] == "g:" + swapped["source_id"]).all()
    assert (swapped["caption"] == swapped["source_id"].map(real.set_index("id")["caption"])).all()
    assert "t0" not in set(mixed["source_id"])  # test images never enter a mix


def test_missing_generated_images_are_an_error():
    real, generated = frames()
    with pytest.raises(ValueError, match="no generated counterpart"):
        mix(real, generated.iloc[:5], 1.0, seed=0)


def test_mix_measurements_hand_computed():
    real, generated = frames()
    # all generated images are female, real ones alternate: at ratio 1 the bias is 1.0
    values = dict((m, v) for m, _, v in mix_measurements(mix(real, generated, 1.0, seed=0)))
    assert values == {"mix_generated_share": 1.0, "mix_gender_bias": 1.0}
    values = dict((m, v) for m, _, v in mix_measurements(mix(real, generated, 0.0, seed=0)))
    assert values == {"mix_generated_share": 0.0, "mix_gender_bias": 0.5}


def test_manifest_write_refuses_duplicate_ids(tmp_path):
    real, _ = frames()
    with pytest.raises(manifest.ManifestError, match="duplicate ids"):
        manifest.write(pd.concat([real, real]), tmp_path / "m.parquet")
