"""Bias amplification: is a model's output more biased than the data it was trained on?
(suite ``amplification``).

Attributes (here gender) and tasks (what an image shows: the toy world's activity, COCO's
objects) are binary matrices, one row per image and one column per value. Both measures judge a
model's predictions on the evaluation images against the bias of **its own training mix**.

- Directional bias amplification (Wang & Russakovsky, ICML 2021):

      BiasAmp→ = mean over (a, t) of y_at · Δ_at,   y_at = sign(P(a, t) − P(a) P(t))

  with the probabilities of y_at counted on the training mix, and on the evaluation images
  Δ_at = P(â = 1 | t = 1) − P(a = 1 | t = 1) for T→A (``biasamp_t2a``: does the model predict
  the attribute that co-occurs with a task more often than it is there?) or
  Δ_at = P(t̂ = 1 | a = 1) − P(t = 1 | a = 1) for A→T (``biasamp_a2t``). Conventions of the
  published implementation: y_at is a sign (a pair exactly at independence counts 0), and a
  cell whose conditioning set is empty (no evaluation image of that task, or attribute) is NaN
  and left out of the mean; no cell at all gives NaN. Positive = the model amplifies.
- ``prediction_accuracy`` (groups ``gender``, ``task``): the share of those images whose
  predicted gender (set of tasks) is the true one. Amplification measures read through
  predictions: a model that does not see gender (accuracy near 0.5) gets a negative
  BiasAmp→ T→A whatever its bias, so the trends table reports this accuracy next to them.
- Bias amplification of Zhao et al. (EMNLP 2017, "Men also like shopping"): with the training
  bias b(t, g) = c(t, g) / Σ_g' c(t, g') over the training images of task t, and b̃(t, g) the
  same ratio over the model's predictions (images predicted to show t with a predicted
  gender), the mean over the tasks the training mix over-associates with a gender g
  (b(t, g) > 1 / |G|) of b̃(t, g) − b(t, g) (``biasamp``). A task without a prediction of it
  is left out.

A captioner's predictions come from the caption it wrote: its gender from the gender word
lists (neither gender when it names none or both), its tasks from the task names (phrases)
the caption contains; a COCO object category is named by any of its synonyms
(:data:`biasamp.wordlists.COCO_SYNONYMS`, in the style of Rohrbach et al. 2018). Another
model's are its zero-shot predictions (:mod:`biasamp.metrics.zeroshot`).
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from biasamp.metrics import NO_AMPLIFICATION, SUITES, Direction, Metric
from biasamp.wordlists import COCO_SYNONYMS, NOT_OBJECTS, caption_gender

GENDERS = ("female", "male")


def directional_bias_amplification(train_attributes: np.ndarray, train_tasks: np.ndarray,
                                   attributes: np.ndarray, tasks: np.ndarray,
                                   predicted: np.ndarray, direction: str) -> float:
    """BiasAmp→ (module docstring). ``train_*``: the training mix (n × |A|, n × |T|, binary);
    ``attributes``, ``tasks``: the evaluation images' truth (m × |A|, m × |T|); ``predicted``:
    the model's predicted attributes (``direction="t2a"``, m × |A|) or tasks (``"a2t"``).

    >>> A = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])  # gender one-hot
    >>> T = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])  # task one-hot
    >>> # T->A: the model calls the task-0 image of attribute 1 attribute 0
    >>> float(directional_bias_amplification(A, T, A, T, np.array([[1, 0]] * 3 + [[0, 1]]),
    ...                                      "t2a"))
    0.16666666666666666
    """
    train_attributes, train_tasks = np.asarray(train_attributes, float), np.asarray(train_tasks,
                                                                                   float)
    attributes, tasks, predicted = (np.asarray(x, float) for x in (attributes, tasks, predicted))
    n = len(train_attributes)
    if not n:
        return float("nan")
    joint = train_attributes.T @ train_tasks / n  # P(a, t), |A| × |T|
    independent = np.outer(train_attributes.mean(axis=0), train_tasks.mean(axis=0))
    y = np.sign(joint - independent)
    with np.errstate(invalid="ignore", divide="ignore"):
        if direction == "t2a":  # condition on the task: P(â | t) − P(a | t)
            counts = tasks.sum(axis=0)  # |T|
            delta = (predicted.T @ tasks - attributes.T @ tasks) / counts
        elif direction == "a2t":  # condition on the attribute: P(t̂ | a) − P(t | a)
            counts = attributes.sum(axis=0)[:, None]  # |A| × 1
            delta = (attributes.T @ predicted - attributes.T @ tasks) / counts
        else:
            raise ValueError(f"direction is 't2a' or 'a2t', not {direction!r}")
    cells = y * delta
    return float(np.nanmean(cells)) if np.isfinite(cells).any() else float("nan")


def zhao_bias_amplification(train_genders: np.ndarray, train_tasks: np.ndarray,
                            predicted_genders: np.ndarray, predicted_tasks: np.ndarray,
                            genders=GENDERS) -> float:
    """Zhao et al.'s bias amplification (module docstring). Each image has one gender and one
    task (labels, with None where unknown or not predicted); training rows are the mix.

    >>> train_g = np.array(["m", "m", "m", "f", "f", "f", "f", "m"])
    >>> train_t = np.array(["ski"] * 4 + ["cook"] * 4)  # ski: m 3/4; cook: f 3/4
    >>> pred_g = np.array(["m", "m", "m", "m", "f", "f", "f", "f"])
    >>> pred_t = np.array(["ski"] * 4 + ["cook"] * 4)  # predicted: ski m 4/4, cook f 4/4
    >>> zhao_bias_amplification(train_g, train_t, pred_g, pred_t, genders=("f", "m"))
    0.25
    """
    def ratios(g, t):
        frame = pd.DataFrame({"g": g, "t": t}).dropna()
        frame = frame[frame["g"].isin(genders)]
        counts = pd.crosstab(frame["t"], frame["g"]).reindex(columns=list(genders), fill_value=0)
        return counts.div(counts.sum(axis=1), axis=0)

    train, predicted = ratios(train_genders, train_tasks), ratios(predicted_genders,
                                                                  predicted_tasks)
    gaps = [predicted.loc[t, g] - train.loc[t, g]
            for t in train.index if t in predicted.index
            for g in genders if train.loc[t, g] > 1 / len(genders)]
    return float(np.mean(gaps)) if gaps else float("nan")


def one_hot(labels, values) -> np.ndarray:
    """Rows of 0/1 for each label in ``values`` (a row of zeros for an unknown label)."""
    return np.array([[label == v for v in values] for label in labels], dtype=float)


def task_matrix(task_lists, tasks) -> np.ndarray:
    """Rows of 0/1: which of ``tasks`` each image's list holds."""
    return np.array([[t in set(row) for t in tasks] for row in task_lists], dtype=float)


_WORD = re.compile(r"[a-z0-9]+", re.IGNORECASE | re.ASCII)


def _words(text: str) -> tuple[str, ...]:
    return tuple(w.lower() for w in _WORD.findall(text))


# every phrase of the COCO synonym lists, as words, with the category it names (None: a phrase
# that names no object, wordlists.NOT_OBJECTS)
_PHRASES: dict[tuple[str, ...], str | None] = {
    **{_words(p): None for p in NOT_OBJECTS},
    **{_words(p): name for name, phrases in COCO_SYNONYMS.items() for p in phrases}}
_LONGEST = max(map(len, _PHRASES))


def task_mentions(caption: str, tasks) -> list[tuple[str, tuple[int, int]]]:
    """Each task of ``tasks`` that ``caption`` names, in the order of ``tasks``, with the
    (start, end) characters of its first mention in ``caption``. Words are compared
    case-insensitively, punctuation ignored. A COCO category (a key of
    :data:`~biasamp.wordlists.COCO_SYNONYMS`) is named by any of its synonyms, matched longest
    phrase first: words taken by a longer phrase (of any category, or of
    :data:`~biasamp.wordlists.NOT_OBJECTS`) name nothing else. Any other task is named by its
    own name as whole words.

    >>> task_mentions("Two hot-dogs and a DOG", ["dog", "hot dog"])
    [('dog', (19, 22)), ('hot dog', (4, 12))]
    """
    found = list(_WORD.finditer(caption))
    words = [m.group().lower() for m in found]
    taken = [False] * len(words)
    first: dict[str, tuple[int, int]] = {}
    for n in range(min(_LONGEST, len(words)), 0, -1):
        for i in range(len(words) - n + 1):
            if any(taken[i:i + n]):
                continue
            key = tuple(words[i:i + n])
            if key not in _PHRASES:
                continue
            taken[i:i + n], name = [True] * n, _PHRASES[key]
            span = (found[i].start(), found[i + n - 1].end())
            if name is not None and (name not in first or span < first[name]):
                first[name] = span
    mentions = []
    for task in tasks:
        if task in COCO_SYNONYMS:
            if task in first:
                mentions.append((task, first[task]))
            continue
        own = _words(task)
        at = next((i for i in range(len(words) - len(own) + 1)
                   if own and tuple(words[i:i + len(own)]) == own), None)
        if at is not None:
            mentions.append((task, (found[at].start(), found[at + len(own) - 1].end())))
    return mentions


def tasks_named(caption: str, tasks) -> list[str]:
    """The tasks ``caption`` names (:func:`task_mentions`), in the order of ``tasks``: a COCO
    category by any of its synonyms, any other task by its name as whole words.

    >>> tasks_named("A man riding a skateboard on the street", ["riding a skateboard", "ski"])
    ['riding a skateboard']
    >>> tasks_named("A man riding a motorbike past two dogs", ["dog", "motorcycle", "person"])
    ['dog', 'motorcycle', 'person']
    >>> tasks_named("a teddy bear next to a hot dog", ["bear", "dog", "hot dog", "teddy bear"])
    ['hot dog', 'teddy bear']
    >>> tasks_named("a laptop computer and a cellphone on a table",
    ...             ["cell phone", "dining table", "laptop", "tv"])
    ['cell phone', 'dining table', 'laptop']
    """
    return [task for task, _ in task_mentions(caption, tasks)]


# Tasks that carry the attribute rather than co-occur with it: every image of known gender shows
# a person, so COCO's "person" category is no task of a gender measure (the references condition
# on the objects people are seen with).
CARRIERS = frozenset({"person"})


def task_lists(frame: pd.DataFrame) -> list[list[str]]:
    """Each image's tasks other than :data:`CARRIERS`, as lists (empty where unknown).

    >>> task_lists(pd.DataFrame({"tasks": [["cake", "person"], None, ["riding a skateboard"]]}))
    [['cake'], [], ['riding a skateboard']]
    """
    return [[x for x in t if x not in CARRIERS] if t is not None and len(t) else []
            for t in frame["tasks"]]


def single_tasks(lists: list[list[str]]) -> np.ndarray:
    """Each image's one task, or None where it has none or several (Zhao et al.'s measure and
    the retrieval queries are about images of one task)."""
    return np.array([row[0] if len(row) == 1 else None for row in lists], dtype=object)


@SUITES.register(
    "amplification",
    needs=frozenset({"image_embeddings", "text_embeddings", "training_mix"}),
    metrics=lambda evaluation: [Metric("biasamp_t2a", Direction.BIAS, rests_on="gender",
                                       references=NO_AMPLIFICATION),
                                # its predictions are tasks, given the true gender
                                Metric("biasamp_a2t", Direction.BIAS,
                                       references=NO_AMPLIFICATION),
                                Metric("biasamp", Direction.BIAS, rests_on="gender",
                                       references=NO_AMPLIFICATION),
                                Metric("prediction_accuracy", Direction.QUALITY,
                                       references=((0.5, "0.5: chance for two genders"),))])
def measure(inputs) -> list[tuple[str, str, float]]:
    """Gender amplification of a model against its training mix, on evaluation images whose
    gender and tasks are known (no rows where either is unknown): a captioner's predictions
    from its captions, another model's zero-shot."""
    from biasamp.metrics.zeroshot import zeroshot_predictions

    train, images = inputs.training_mix, inputs.images
    if "tasks" not in train or "tasks" not in images or "gender" not in images:
        return []
    train = train[train["gender"].isin(GENDERS).to_numpy(dtype=bool)]
    known = images["gender"].isin(GENDERS).to_numpy(dtype=bool) & np.array(
        [len(t) > 0 for t in task_lists(images)], dtype=bool)
    if not len(train) or not known.any():
        return []
    train_lists = task_lists(train)
    tasks = sorted({t for row in train_lists for t in row})
    if inputs.written_captions is not None:
        written = [c for c, k in zip(inputs.written_captions, known, strict=True) if k]
        said_gender = [caption_gender([c]) for c in written]
        said_tasks = [tasks_named(c, tasks) for c in written]
    else:
        genders, predicted = zeroshot_predictions(inputs, tasks)
        said_gender = [g for g, k in zip(genders, known, strict=True) if k]
        said_tasks = [t for t, k in zip(predicted, known, strict=True) if k]
    images = images[known]
    truth_lists = task_lists(images)
    train_a, train_t = one_hot(train["gender"], GENDERS), task_matrix(train_lists, tasks)
    a, t = one_hot(images["gender"], GENDERS), task_matrix(truth_lists, tasks)
    predicted_a, predicted_t = one_hot(said_gender, GENDERS), task_matrix(said_tasks, tasks)
    said_gender = np.array(said_gender, dtype=object)
    return [
        ("prediction_accuracy", "gender", float(np.mean(
            said_gender == images["gender"].to_numpy(dtype=object)))),
        ("prediction_accuracy", "task", float(np.mean(
            [set(said) == set(truth) for said, truth in zip(said_tasks, truth_lists,
                                                            strict=True)]))),
        ("biasamp_t2a", "gender",
         directional_bias_amplification(train_a, train_t, a, t, predicted_a, "t2a")),
        ("biasamp_a2t", "gender",
         directional_bias_amplification(train_a, train_t, a, t, predicted_t, "a2t")),
        ("biasamp", "gender", zhao_bias_amplification(
            train["gender"].to_numpy(dtype=object), single_tasks(train_lists), said_gender,
            single_tasks(said_tasks))),
    ]


def retrieval_bias_amplification(query_emb: np.ndarray, query_tasks: list[str],
                                 image_emb: np.ndarray, genders: np.ndarray,
                                 image_tasks: list[list[str]], majority: dict[str, str],
                                 k: int) -> float:
    """Mean over neutral queries of (share of the query task's training-majority gender among
    the top k retrieved images) − (its share among the evaluation images of that task).

    ``genders``: each evaluation image's gender (images of unknown gender are left out of the
    ranking, as for MaxSkew); ``majority``: task → the gender the training mix shows most
    often doing it. A query whose task has no evaluation image of known gender is left out.

    >>> images = np.eye(4)  # image i is retrieved first by a query along axis i
    >>> query = np.array([[0.9, 0.8, 0.1, 0.0]])  # ranks images 0, 1, 2, 3
    >>> retrieval_bias_amplification(query, ["cook"], images, np.array(["f", "f", "m", "m"]),
    ...     [["cook"]] * 4, {"cook": "f"}, k=2)  # top 2 all f (1.0) - f among cooks (0.5)
    0.5
    """
    known = np.array([g is not None and g == g for g in genders], dtype=bool)
    genders = np.asarray(genders, dtype=object)[known]
    image_tasks = [t for t, k_ in zip(image_tasks, known, strict=True) if k_]
    order = np.argsort(-(query_emb @ np.asarray(image_emb)[known].T), axis=1, kind="stable")
    gaps = []
    for task, ranked in zip(query_tasks, order, strict=True):
        of_task = np.array([task in t for t in image_tasks], dtype=bool)
        if task not in majority or not of_task.any():
            continue
        top = genders[ranked[:k]]
        gaps.append(float((top == majority[task]).mean())
                    - float((genders[of_task] == majority[task]).mean()))
    return float(np.mean(gaps)) if gaps else float("nan")


@SUITES.register(
    "retrieval_amplification",
    needs=frozenset({"image_embeddings", "text_embeddings", "training_mix"}),
    # a model blind to gender retrieves each gender at its share among the task's images: 0
    metrics=lambda evaluation: [Metric(f"retrieval_biasamp@{evaluation['bias_k']}",
                                       Direction.BIAS, rests_on="gender", blind_value=0.0,
                                       references=NO_AMPLIFICATION)])
def measure_retrieval(inputs) -> list[tuple[str, str, float]]:
    """retrieval_biasamp@k for gender: do gender-neutral queries about a task retrieve its
    training-majority gender more often than the evaluation images of the task hold it?
    Queries: the distinct gender-neutral captions whose images share one task."""
    from biasamp.wordlists import mentions_gender

    train, images = inputs.training_mix, inputs.images
    if not inputs.has_captions or "tasks" not in train or "tasks" not in images \
            or "gender" not in images:
        return []
    train = train[train["gender"].isin(GENDERS).to_numpy(dtype=bool)]
    counts = pd.crosstab(pd.Series(single_tasks(task_lists(train)), name="t"),
                         train["gender"].to_numpy())
    majority = {t: str(counts.loc[t].idxmax()) for t in counts.index}
    own = task_lists(images)
    tasks_of: dict[str, set] = {}
    for caption, target in zip(*inputs.queries, strict=True):
        if caption.strip() and not mentions_gender(caption):
            tasks_of.setdefault(caption, set()).add(tuple(own[target]))
    queries = []  # (caption, its images' one task)
    for caption, task_sets in tasks_of.items():
        if len(task_sets) == 1 and len(next(iter(task_sets))) == 1:
            queries.append((caption, next(iter(task_sets))[0]))
    if not queries:
        return []
    genders = images["gender"].astype(object).where(images["gender"].isin(GENDERS), None)
    value = retrieval_bias_amplification(
        inputs.encode_texts([c for c, _ in queries]), [t for _, t in queries],
        inputs.image_embeddings, genders.to_numpy(dtype=object), own, majority,
        inputs.evaluation["bias_k"])
    return [(f"retrieval_biasamp@{inputs.evaluation['bias_k']}", "gender", value)]
