"""Dataset bias of a training set: how strongly activities co-occur with one gender."""

from __future__ import annotations

import numpy as np
import pandas as pd


def dataset_bias_score(activities: np.ndarray, genders: np.ndarray) -> float:
    """Mean over activities a of max_g P(g | a) (Zhao et al., EMNLP 2017, "Men also like
    shopping": b(a, g) = c(a, g) / Σ_g' c(a, g')).

    0.5 with two genders means every activity is balanced; 1 means every activity is done by
    one gender only. Pass only images whose gender is known.

    >>> dataset_bias_score(np.array(["cook", "cook", "cook", "ski"]),
    ...                    np.array(["f", "f", "m", "m"]))  # (2/3 + 1) / 2
    0.8333333333333333
    """
    if len(activities) == 0:
        return float("nan")
    counts = pd.crosstab(pd.Series(activities, name="a"), pd.Series(genders, name="g"))
    return float((counts.max(axis=1) / counts.sum(axis=1)).mean())
