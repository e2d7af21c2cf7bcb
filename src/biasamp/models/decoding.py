"""Beam search for autoregressive captioners.

open_clip's ``CoCa.generate`` builds its beam search on transformers' ``BeamSearchScorer``,
which transformers 5 removed (and the diffusers this project needs requires transformers 5), so
the captioner decodes with this one: standard beam search with length-normalised final scores
(score / number of generated tokens, transformers' ``length_penalty=1``).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import torch


def beam_search(
    next_log_probs: Callable[[torch.Tensor, torch.Tensor], torch.Tensor], batch: int,
    sot: int, eot: int, beams: int, max_tokens: int, min_tokens: int = 1,
) -> list[list[int]]:
    """The best token sequence (without start and end tokens) for each of ``batch`` inputs.

    ``next_log_probs(rows, prefixes)`` returns log-probabilities [len(rows), vocab] of the next
    token after each prefix [len(rows), t]; ``rows`` says which input each prefix belongs to.
    At most ``max_tokens`` tokens are generated; the end token is barred before ``min_tokens``.
    A hypothesis ends with the end token; those still open at ``max_tokens`` end there. Search
    stops early once no live hypothesis can beat the ended ones (see :func:`_done`).
    """
    import torch

    rows = torch.arange(batch).repeat_interleave(beams)
    prefixes = torch.full((batch * beams, 1), sot, dtype=torch.long)
    scores = torch.zeros(batch, beams)
    scores[:, 1:] = float("-inf")  # the first step expands one beam, not k identical ones
    finished: list[list[tuple[float, list[int]]]] = [[] for _ in range(batch)]
    for step in range(max_tokens):
        log_probs = next_log_probs(rows, prefixes).float()
        if step < min_tokens:
            log_probs[:, eot] = float("-inf")
        vocab = log_probs.shape[1]
        total = (scores.reshape(-1, 1) + log_probs).reshape(batch, beams * vocab)
        top_scores, top_index = total.topk(2 * beams, dim=1)  # room for ends and continuations
        next_prefixes, next_scores = [], torch.full((batch, beams), float("-inf"))
        for b in range(batch):
            kept = 0
            for score, index in zip(top_scores[b].tolist(), top_index[b].tolist(), strict=True):
                beam, token = divmod(index, vocab)
                prefix = prefixes[b * beams + beam]
                if token == eot or step == max_tokens - 1:
                    if score > float("-inf"):
                        tokens = prefix[1:].tolist() + ([] if token == eot else [token])
                        finished[b].append((score / (step + 1), tokens))
                    if token == eot:
                        continue
                if kept < beams:
                    next_prefixes.append(torch.cat([prefix, prefix.new_tensor([token])]))
                    next_scores[b, kept] = score
                    kept += 1
            while kept < beams:  # fewer live continuations than beams: pad with dead ones
                next_prefixes.append(torch.cat([prefixes[b * beams], prefix.new_tensor([eot])]))
                kept += 1
        prefixes, scores = torch.stack(next_prefixes), next_scores
        if all(_done(f, scores[b].max().item(), beams, step + 1)
               for b, f in enumerate(finished)):
            break
    return [max(f, key=lambda item: item[0])[1] if f else [] for f in finished]


def _done(finished: list[tuple[float, list[int]]], best_live: float, beams: int,
          length: int) -> bool:
    """An input is done when it has ``beams`` ended hypotheses and the best live one, scored
    at its current length, cannot beat the worst of them (transformers' heuristic)."""
    if len(finished) < beams:
        return False
    worst_kept = sorted(score for score, _ in finished)[-beams]
    return worst_kept >= best_live / length
