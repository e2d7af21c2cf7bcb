"""Caption quality and gender in captions.

- Corpus BLEU-4 (Papineni et al., ACL 2002): clipped n-gram precisions p_1..p_4 summed over the
  corpus, their geometric mean, times the brevity penalty BP = exp(1 - r / c) when the
  candidates' total length c is below r, the sum of each candidate's closest reference length
  (the shorter on ties). Words are lower-cased alphanumeric runs.
- Gender in captions (Hendricks et al., ECCV 2018): a caption's gender follows the word lists
  (:func:`biasamp.wordlists.caption_gender`); against an image's annotated gender it is an
  error (the other gender) or neutral (none, or both).
"""

from __future__ import annotations

import math
import re
from collections import Counter
from collections.abc import Sequence

import numpy as np

from biasamp.metrics import SUITES, Direction, Metric, subgroups
from biasamp.wordlists import caption_gender

_WORD = re.compile(r"[a-z0-9]+")


def tokens(text: str) -> list[str]:
    return _WORD.findall(text.lower())


def _ngrams(words: list[str], n: int) -> Counter:
    return Counter(tuple(words[i:i + n]) for i in range(len(words) - n + 1))


def corpus_bleu(candidates: Sequence[str], references: Sequence[Sequence[str]],
                max_n: int = 4) -> float:
    """Corpus BLEU-``max_n`` of ``candidates`` against their reference lists (0 when some
    order has no match, as without smoothing)."""
    matched, total = [0] * max_n, [0] * max_n
    c = r = 0
    for candidate, refs in zip(candidates, references, strict=True):
        words = tokens(candidate)
        ref_words = [tokens(ref) for ref in refs]
        c += len(words)
        r += min((len(ref) for ref in ref_words), key=lambda n: (abs(n - len(words)), n))
        for n in range(1, max_n + 1):
            counts = _ngrams(words, n)
            most = Counter()
            for ref in ref_words:
                most |= _ngrams(ref, n)  # per n-gram, its largest count in one reference
            matched[n - 1] += sum(min(k, most[g]) for g, k in counts.items())
            total[n - 1] += sum(counts.values())
    if not c or not all(matched):
        return 0.0
    log_precision = sum(math.log(m / t) for m, t in zip(matched, total, strict=True)) / max_n
    brevity = 1.0 if c > r else math.exp(1 - r / c)
    return brevity * math.exp(log_precision)


def gender_outcomes(captions: Sequence[str], genders: Sequence) -> list[str | None]:
    """Per image: ``correct``, ``error`` (the caption names the other gender) or ``neutral``
    (no gender, or both), against the annotated ``male``/``female``; None where unknown.

    >>> gender_outcomes(["a man", "a woman", "a person", "a man"], ["male", "male", "male", None])
    ['correct', 'error', 'neutral', None]
    """
    out = []
    for caption, gender in zip(captions, genders, strict=True):
        if gender not in ("male", "female"):
            out.append(None)
            continue
        said = caption_gender([caption])
        out.append("neutral" if said is None else "correct" if said == gender else "error")
    return out


@SUITES.register(
    "captions", needs=frozenset({"written_captions"}),
    metrics=lambda evaluation: [Metric("bleu4", Direction.QUALITY),
                                Metric("caption_gender_error", Direction.BIAS),
                                Metric("caption_gender_neutral", Direction.NEITHER)])
def measure(inputs) -> list[tuple[str, str, float]]:
    """bleu4 (sets with captions) and the gender outcomes of the captions a model wrote,
    overall and per subgroup."""
    images, generated = inputs.images, inputs.written_captions
    groups = subgroups(images, inputs.attribute_values)
    rows = []
    if inputs.has_captions:
        references: list[list[str]] = [[] for _ in range(len(images))]
        for caption, target in zip(*inputs.queries, strict=True):
            references[target].append(caption)
        rows += [("bleu4", name, corpus_bleu([generated[i] for i in np.flatnonzero(members)],
                                             [references[i] for i in np.flatnonzero(members)]))
                 for name, members in groups if members.any()]
    genders = images["gender"].astype(object).where(images["gender"].notna(), None) \
        if "gender" in images else [None] * len(images)
    outcomes = np.array(gender_outcomes(generated, list(genders)), dtype=object)
    for name, members in groups:
        judged = outcomes[members & (outcomes != None)]  # noqa: E711  (elementwise)
        if len(judged):
            rows += [("caption_gender_error", name, float((judged == "error").mean())),
                     ("caption_gender_neutral", name, float((judged == "neutral").mean()))]
    return rows
