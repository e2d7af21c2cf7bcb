"""Beam search against hand-computed cases on a four-token language model."""

import math

import torch

from biasamp.models.decoding import beam_search

SOT, EOT, A, B = 0, 1, 2, 3
# P(next | last token); the start token only leads to A or B
TABLE = {SOT: {A: 0.55, B: 0.45}, A: {B: 0.4, A: 0.25, EOT: 0.35}, B: {EOT: 0.9, A: 0.05, B: 0.05}}


def model(rows, prefixes):
    out = torch.full((len(prefixes), 4), -math.inf)
    for i, last in enumerate(prefixes[:, -1].tolist()):
        for token, p in TABLE.get(last, {}).items():
            out[i, token] = math.log(p)
    return out


def test_greedy_and_beam_search_differ_as_computed_by_hand():
    # greedy: A (.55), then B (.4; ending, .35, scores log(.1925)/2 = -0.82), then the end
    # (.9): "A B" scores log(.55 * .4 * .9) / 3 = -0.540
    assert beam_search(model, 1, SOT, EOT, beams=1, max_tokens=5) == [[A, B]]
    # two beams: after step 2, "B" ended with log(.45 * .9) / 2 = -0.452, the best of two ended
    assert beam_search(model, 1, SOT, EOT, beams=2, max_tokens=5) == [[B]]


def test_length_limits():
    # no end before two tokens: "A B" (-0.540) beats "A A" (log(.55 * .25 * .35) / 3 = -1.011)
    assert beam_search(model, 1, SOT, EOT, beams=2, max_tokens=5, min_tokens=2) == [[A, B]]
    # one token at most: "A" (log .55) beats "B" (log .45), both cut off unended
    assert beam_search(model, 1, SOT, EOT, beams=2, max_tokens=1) == [[A]]


def test_inputs_of_a_batch_are_decoded_independently():
    def biased(rows, prefixes):  # input 1 never emits A
        out = model(rows, prefixes)
        out[rows == 1, A] = -math.inf
        return out

    assert beam_search(biased, 2, SOT, EOT, beams=1, max_tokens=5) == [[A, B], [B]]
