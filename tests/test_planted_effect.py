"""End-to-end check of the study's logic on a planted effect, without training.

The toy generator over-renders an activity's majority gender for neutral prompts with
amplification γ. Replacing real images by generated ones must then raise the training mix's
dataset bias with the contamination ratio when γ > 1, and leave it flat when γ = 1.
"""

import numpy as np
import pytest
from helpers import generator_settings

from biasamp import manifest
from biasamp.datasets import prepare
from biasamp.evaluate import mix_measurements
from biasamp.generate import generate_shard
from biasamp.generators.toy import amplified
from biasamp.mix import mix

RATIOS = [0, 0.25, 0.5, 0.75, 1]
DATASET = {"kind": "toy", "n_images": 3000, "image_size": 16, "neutral_caption_share": 0.5,
           "activity_skew": 0.75, "dark_skin_share": 0.5, "seed": 11,
           "splits": {"train": 0.9, "val": 0.0, "test": 0.1}}


@pytest.fixture(scope="module")
def real(tmp_path_factory):
    path = tmp_path_factory.mktemp("planted") / "manifest.parquet"
    prepare(DATASET, str(path))
    return path


def bias_by_ratio(real_path, gamma, tmp_path):
    settings = generator_settings(kind="toy", amplification=gamma, image_size=16, shards=1)
    generate_shard(settings, "g", str(real_path), 0, 0, str(tmp_path / "g.parquet"),
                   str(tmp_path / "g.tar"))
    real, generated = manifest.read(real_path), manifest.read(tmp_path / "g.parquet")
    out = []
    for ratio in RATIOS:
        values = dict((m, v) for m, _, v in mix_measurements(mix(real, generated, ratio, 0)))
        out.append(values["mix_gender_bias"])
    return np.array(out)


def test_amplifying_generator_raises_dataset_bias(real, tmp_path):
    bias = bias_by_ratio(real, 3.0, tmp_path)
    # expected rise at ratio 1: half the captions are neutral, their majority share goes
    # from 0.75 to amplified(0.75, 3) = 0.964
    expected_rise = 0.5 * (amplified(0.75, 3.0) - 0.75)
    assert bias[-1] - bias[0] == pytest.approx(expected_rise, abs=0.03)
    assert np.all(np.diff(bias) > -0.01)  # rises with the ratio (nested mixes)
    assert np.polyfit(RATIOS, bias, 1)[0] > 0.07


def test_faithful_generator_leaves_dataset_bias_flat(real, tmp_path):
    bias = bias_by_ratio(real, 1.0, tmp_path)
    # sampling noise of the per-activity shares (~2,700 images): a few thousandths
    assert np.ptp(bias) < 0.025
    assert abs(np.polyfit(RATIOS, bias, 1)[0]) < 0.02
