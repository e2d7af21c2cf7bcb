"""Zero-shot predictions of gender and task by a contrastive model, and their accuracy
(suite ``zeroshot``).

Prompts are in the style of the captions the model was trained on (:mod:`biasamp.wordlists`):
for gender, each image's own caption with its subject word naming each gender ("a man in a red
shirt cutting a cake in the kitchen" against "a woman in ..."), so the prompts name the image's
true task (T→A conditions on the task); for tasks, its caption with the neutral subject and its
task's name replaced by each task's (a caption that does not name its task, as COCO's often do
not name every object: CLIP's template "a photo of a {task}").
An image's predicted gender is the value whose prompt is most similar to it; its predicted tasks
are the m most similar, m its number of true tasks (single-label argmax when it has one).

``zeroshot_accuracy``: the share of images whose predicted gender (group ``gender``), or set of
predicted tasks (group ``task``), is the true one, over images where it is known. A model near
chance (0.5 for two genders) does not see the attribute, and its amplification measures say
little.
"""

from __future__ import annotations

import numpy as np

from biasamp.metrics import SUITES, Direction, Metric
from biasamp.metrics.amplification import GENDERS, task_lists, task_mentions
from biasamp.wordlists import with_subject


def task_prompt(caption: str, own: list[str], task: str) -> str:
    """The caption with a neutral subject and its task named ``task``: the words that name the
    first of its own tasks it names (a COCO category's synonym, as written) are replaced.

    >>> task_prompt("a woman in a red shirt cutting a cake", ["cutting a cake"], "flying a kite")
    'a person in a red shirt flying a kite'
    >>> task_prompt("a kitchen with a sink", ["oven"], "dog")
    'a photo of a dog'
    >>> task_prompt("A man riding a Motorbike down the street", ["motorcycle", "person"],
    ...             "bicycle")
    'A person riding a bicycle down the street'
    """
    neutral = with_subject(caption, None)
    named = task_mentions(neutral, own)
    if not named:
        return f"a photo of a {task}"
    start, end = named[0][1]
    return neutral[:start] + task + neutral[end:]


def _most_similar(image_emb: np.ndarray, prompts: list[list[str]], encode_texts) -> np.ndarray:
    """Similarity of each image to each of its own prompts, [images × candidates]; every
    distinct prompt is encoded once."""
    distinct = sorted({p for row in prompts for p in row})
    index = {p: i for i, p in enumerate(distinct)}
    text = encode_texts(distinct)
    rows = np.array([[index[p] for p in row] for row in prompts])
    return np.einsum("id,icd->ic", image_emb, text[rows])


def zeroshot_predictions(inputs, tasks: list[str]) -> tuple[list, list[list[str]]]:
    """Predicted gender and tasks of every evaluation image (shared by the suites that use them:
    computed once per evaluation)."""
    key = ("zeroshot", tuple(tasks))
    if key not in inputs.shared:
        images, captions = inputs.images, inputs.images["caption"].fillna("").tolist()
        gender_scores = _most_similar(
            inputs.image_embeddings, [[with_subject(c, g) for g in GENDERS] for c in captions],
            inputs.encode_texts)
        genders = [GENDERS[i] for i in gender_scores.argmax(axis=1)]
        own = task_lists(images) if "tasks" in images else [[] for _ in captions]
        predicted_tasks: list[list[str]] = [[] for _ in captions]
        if tasks:
            task_scores = _most_similar(
                inputs.image_embeddings,
                [[task_prompt(c, o, t) for t in tasks] for c, o in zip(captions, own,
                                                                     strict=True)],
                inputs.encode_texts)
            order = np.argsort(-task_scores, axis=1, kind="stable")
            predicted_tasks = [[tasks[j] for j in row[:max(1, len(o))]]
                               for row, o in zip(order, own, strict=True)]
        inputs.shared[key] = (genders, predicted_tasks)
    return inputs.shared[key]


@SUITES.register(
    "zeroshot", needs=frozenset({"image_embeddings", "text_embeddings", "training_mix"}),
    metrics=lambda evaluation: [Metric("zeroshot_accuracy", Direction.QUALITY)])
def measure(inputs) -> list[tuple[str, str, float]]:
    """Zero-shot accuracy for gender and for tasks (the tasks of the model's training mix)."""
    images = inputs.images
    train = inputs.training_mix
    tasks = sorted({t for row in task_lists(train) for t in row}) if "tasks" in train else []
    has_gender = "gender" in images and images["gender"].isin(GENDERS).any()
    if not has_gender and not tasks:
        return []
    genders, predicted_tasks = zeroshot_predictions(inputs, tasks)
    rows = []
    if has_gender:
        known = images["gender"].isin(GENDERS).to_numpy(dtype=bool)
        truth = images["gender"].astype(object).where(known, None).to_numpy(dtype=object)
        right = np.array(genders, dtype=object) == truth
        rows.append(("zeroshot_accuracy", "gender", float(right[known].mean())))
    if tasks and "tasks" in images:
        truth = task_lists(images)
        judged = [set(p) == set(t) for p, t in zip(predicted_tasks, truth, strict=True) if t]
        if judged:
            rows.append(("zeroshot_accuracy", "task", float(np.mean(judged))))
    return rows
