"""Bias amplification against the training mix: hand-worked cases of the published
definitions (Wang & Russakovsky 2021; Zhao et al. 2017), their conventions, planted effects."""

import math

import numpy as np
import pandas as pd
import pytest

from biasamp.evaluate import ModelInputs
from biasamp.metrics import SUITES
from biasamp.metrics.amplification import (
    directional_bias_amplification,
    tasks_named,
    zhao_bias_amplification,
)

# four images: attribute one-hot (a0, a1), task one-hot (t0, t1)
A = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
T = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])


def test_directional_hand_computed():
    # y (train = A, T): P(a0,t0) = .5 > .5 * .75 -> +1; (a0,t1) 0 < .125 -> -1;
    # (a1,t0) .25 < .375 -> -1; (a1,t1) .25 > .125 -> +1
    # A->T with predicted tasks: image 2 (a1) predicted t1 instead of t0
    predicted = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    # Δ(a0,t0) = 1 - 1 = 0; Δ(a0,t1) = 0; Δ(a1,t0) = 0 - 1/2; Δ(a1,t1) = 1 - 1/2
    # cells: 0, 0, (-1)(-1/2) = 1/2, (+1)(1/2) = 1/2 -> mean 1/4
    assert directional_bias_amplification(A, T, A, T, predicted, "a2t") == pytest.approx(0.25)
    # T->A: the task-0 image of a1 predicted a0: Δ(a0,t0) = 1/3, Δ(a1,t0) = -1/3, t1 exact
    # cells 1/3, 1/3, 0, 0 -> 1/6
    predicted_a = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    assert directional_bias_amplification(A, T, A, T, predicted_a, "t2a") == pytest.approx(1 / 6)
    # predictions equal to the truth amplify nothing, whatever the training bias
    assert directional_bias_amplification(A, T, A, T, A, "t2a") == 0.0
    with pytest.raises(ValueError, match="direction"):
        directional_bias_amplification(A, T, A, T, A, "sideways")


def test_directional_conventions():
    # a task no evaluation image shows: its cells are NaN and left out of the mean
    tasks = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 1, 0]])
    train_t = np.array([[1, 0, 0], [1, 0, 0], [1, 0, 0], [0, 0, 1]])
    predicted_a = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    value = directional_bias_amplification(A, train_t, A, tasks, predicted_a, "t2a")
    # t0: cells 1/3 and 1/3 as above; t1: y from train (t1 never in train: P = 0 = P(a)P(t),
    # sign 0) -> 0 twice; t2: no evaluation image -> NaN, left out: mean over 4 cells
    assert value == pytest.approx((1 / 3 + 1 / 3 + 0 + 0) / 4)
    # a pair exactly at independence counts 0 (sign), not -Δ
    balanced_a = np.array([[1, 0], [0, 1], [1, 0], [0, 1]])
    balanced_t = np.array([[1, 0], [1, 0], [0, 1], [0, 1]])
    assert directional_bias_amplification(balanced_a, balanced_t, A, T, 1 - A, "t2a") == 0.0
    assert math.isnan(directional_bias_amplification(A[:0], T[:0], A, T, A, "t2a"))


def test_zhao_hand_computed_and_conventions():
    train_g = np.array(["m", "m", "m", "f", "f", "f", "f", "m", "f", "f"])
    train_t = np.array(["ski"] * 4 + ["cook"] * 4 + ["shop"] * 2)  # shop: only women
    # predicted: ski m 2/3, cook f 1/1 (one cooking image said no gender), shop never predicted
    pred_g = np.array(["m", "m", "f", "f", None, None, None, None, None, None], dtype=object)
    pred_t = np.array(["ski", "ski", "ski", "cook", "cook", None, None, None, None, None],
                      dtype=object)
    # ski: 2/3 - 3/4; cook: 1 - 3/4; shop (b = 1) has no prediction: left out
    expected = ((2 / 3 - 0.75) + (1 - 0.75)) / 2
    assert zhao_bias_amplification(train_g, train_t, pred_g, pred_t, ("f", "m")) == \
        pytest.approx(expected)
    assert math.isnan(zhao_bias_amplification(train_g, train_t, pred_g[:0], pred_t[:0],
                                              ("f", "m")))


def test_directional_a_task_with_one_gender_and_an_attribute_without_images():
    # training mix: t0 done by a0 only (3 images), t1 by a1 only (1 image)
    # y: (a0,t0) .75 > .75*.75 -> +1; (a0,t1) 0 < .75*.25 -> -1; (a1,t0) 0 < .1875 -> -1;
    # (a1,t1) .25 > .0625 -> +1: a one-gender task is +1 for its gender, -1 for the other
    train_a = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    train_t = np.array([[1, 0], [1, 0], [1, 0], [0, 1]])
    # evaluation: every image is a0 (no image of a1); tasks t0, t0, t1
    eval_a = np.array([[1, 0], [1, 0], [1, 0]])
    eval_t = np.array([[1, 0], [1, 0], [0, 1]])
    # A->T: the t1 image predicted t0. Conditioned on a0: Δ(a0,t0) = 3/3 - 2/3 = 1/3,
    # Δ(a0,t1) = 0 - 1/3; on a1: no image, both cells NaN and left out
    predicted_t = np.array([[1, 0], [1, 0], [1, 0]])
    assert directional_bias_amplification(train_a, train_t, eval_a, eval_t, predicted_t,
                                          "a2t") == pytest.approx((1 / 3 + 1 / 3) / 2)
    # T->A: the t1 image (its training gender a1) predicted a0 as it is: Δ(a0,t1) = 1 - 1 = 0
    # and all t0 cells 0: nothing amplified
    assert directional_bias_amplification(train_a, train_t, eval_a, eval_t, eval_a,
                                          "t2a") == 0.0


def test_zhao_a_one_gender_task_with_predictions_counts():
    # shop is done by women only in training (b = 1): predictions can only fall short of it,
    # and the task still counts (its b(t, f) = 1 > 1/2)
    train_g = np.array(["f", "f", "m", "m", "m", "f"])
    train_t = np.array(["shop", "shop", "ski", "ski", "ski", "ski"])  # ski: m 3/4
    pred_g = np.array(["f", "m", "m", "m", "m", "m"], dtype=object)
    pred_t = np.array(["shop", "shop", "ski", "ski", "ski", "ski"], dtype=object)
    # shop: 1/2 - 1 = -1/2; ski (m): 4/4 - 3/4 = 1/4 -> mean -1/8
    assert zhao_bias_amplification(train_g, train_t, pred_g, pred_t, ("f", "m")) == \
        pytest.approx(-1 / 8)


def test_task_names_in_captions():
    assert tasks_named("a person in a red shirt cutting a cake in the kitchen",
                       ["cutting a cake", "using a laptop"]) == ["cutting a cake"]
    assert tasks_named("skateboarding", ["riding a skateboard"]) == []


def toy_frame(rows):
    return pd.DataFrame([{"caption": f"a {'woman' if g == 'female' else 'man'} in a red shirt "
                                     f"{t} in the park", "gender": g, "tasks": [t]}
                         for g, t in rows])


# a training mix where cooking is 3/4 female and skating 3/4 male, and an evaluation set alike
SKEWED = ([("female", "cutting a cake")] * 3 + [("male", "cutting a cake")]
          + [("male", "riding a skateboard")] * 3 + [("female", "riding a skateboard")])


def suite(captions, images=None, train=None):
    images = toy_frame(SKEWED) if images is None else images
    train = toy_frame(SKEWED) if train is None else train
    inputs = ModelInputs(images, {}, None, None, written_captions=captions)
    inputs.training_mix = train  # what the evaluate job reads from the mix manifest
    return {(m, g): v for m, g, v in SUITES.get("amplification").measure(inputs)}


def test_a_planted_stereotype_is_recovered():
    truth = toy_frame(SKEWED)["caption"].tolist()
    faithful = suite(truth)
    assert faithful == {("biasamp_t2a", "gender"): 0.0, ("biasamp_a2t", "gender"): 0.0,
                        ("biasamp", "gender"): 0.0, ("prediction_accuracy", "gender"): 1.0,
                        ("prediction_accuracy", "task"): 1.0}
    # a captioner that names each activity's majority gender: every minority image misgendered
    stereotyped = [c.replace("a man in a red shirt cutting", "a woman in a red shirt cutting")
                   .replace("a woman in a red shirt riding", "a man in a red shirt riding")
                   for c in truth]
    values = suite(stereotyped)
    # T->A: Δ = +1/4 on each (majority, task) cell and -1/4 on each minority cell, all y-signed
    assert values["biasamp_t2a", "gender"] == pytest.approx(0.25)
    assert values["biasamp", "gender"] == pytest.approx(0.25)  # 3/4 -> 1 on both tasks
    assert values["biasamp_a2t", "gender"] == 0.0  # the tasks it names are right
    assert values["prediction_accuracy", "gender"] == 0.75  # the two minority images wrong
    # the opposite captioner (counter-stereotypes everyone) is negative
    reversed_ = [c.replace("woman", "MAN").replace(" man ", " woman ").replace("MAN", "man")
                 for c in truth]
    assert suite(reversed_)["biasamp_t2a", "gender"] < 0
    # a captioner that names no gender: Δ = -P(a|t) on every cell, -3/4 on the two majority
    # cells (y = +1) and +1/4 on the two minority ones: a blind model looks "fair" (negative)
    neutral = [c.replace("woman", "person").replace(" man ", " person ") for c in truth]
    assert suite(neutral)["biasamp_t2a", "gender"] == pytest.approx(-0.25)
    assert suite(neutral)["prediction_accuracy", "gender"] == 0.0  # it is blind to gender


def test_no_rows_without_tasks():
    images = toy_frame(SKEWED).drop(columns="tasks")
    assert suite(["a man"] * len(images), images=images) == {}


def test_retrieval_amplification_hand_computed():
    from biasamp.metrics.amplification import retrieval_bias_amplification

    images = np.eye(6)
    genders = np.array(["f", "f", "m", "m", None, "f"], dtype=object)
    tasks = [["cook"], ["cook"], ["cook"], ["ski"], ["ski"], ["ski"]]
    majority = {"cook": "f", "ski": "m"}
    # query 0 (cook) ranks images 0, 2, 1, ...: top 2 = f, m -> 1/2; f among cooks 2/3
    # query 1 (ski) ranks 4 (unknown, left out), 3, 5: top 2 = m, f -> 1/2; m among skiers 1/2
    queries = np.array([[0.9, 0.5, 0.8, 0, 0, 0], [0, 0, 0, 0.8, 0.9, 0.7]])
    value = retrieval_bias_amplification(queries, ["cook", "ski"], images, genders, tasks,
                                         majority, k=2)
    assert value == pytest.approx(((0.5 - 2 / 3) + (0.5 - 0.5)) / 2)
    # a query about a task without a training majority is left out; none left: NaN
    assert math.isnan(retrieval_bias_amplification(queries[:1], ["surf"], images, genders,
                                                   tasks, majority, k=2))


def test_retrieval_amplification_suite_on_planted_retrieval():
    # neutral queries about cooking retrieve the women first: more skewed than the data
    images = toy_frame(SKEWED)
    neutral = images.assign(caption=images["caption"].str.replace("woman", "person")
                            .str.replace(" man ", " person "))

    def encode(texts):  # one neutral query per task, pointing at that task's majority
        return np.array([[1.0, 0.0] if "cake" in t else [0.0, 1.0] for t in texts])

    # image embeddings: the majority-gender images of each task lie along its query
    emb = np.array([[1.0, 0.0] if (g, t[0]) == ("female", "cutting a cake") else
                    [0.0, 1.0] if (g, t[0]) == ("male", "riding a skateboard") else [0.5, 0.5]
                    for g, t in zip(images["gender"], images["tasks"], strict=True)])
    inputs = ModelInputs(neutral, {"bias_k": 3}, lambda frame: emb, encode)
    inputs.training_mix = images
    rows = SUITES.get("retrieval_amplification").measure(inputs)
    # top 3 of each query: its three majority images (1.0) vs 3/4 in the data -> +1/4
    assert rows == [("retrieval_biasamp@3", "gender", pytest.approx(0.25))]


# COCO's 80 categories as its instances files name them, in category-id order
COCO_CATEGORIES = (
    "person", "bicycle", "car", "motorcycle", "airplane", "bus", "train", "truck", "boat",
    "traffic light", "fire hydrant", "stop sign", "parking meter", "bench", "bird", "cat", "dog",
    "horse", "sheep", "cow", "elephant", "bear", "zebra", "giraffe", "backpack", "umbrella",
    "handbag", "tie", "suitcase", "frisbee", "skis", "snowboard", "sports ball", "kite",
    "baseball bat", "baseball glove", "skateboard", "surfboard", "tennis racket", "bottle",
    "wine glass", "cup", "fork", "knife", "spoon", "bowl", "banana", "apple", "sandwich",
    "orange", "broccoli", "carrot", "hot dog", "pizza", "donut", "cake", "chair", "couch",
    "potted plant", "bed", "dining table", "toilet", "tv", "laptop", "mouse", "remote",
    "keyboard", "cell phone", "microwave", "oven", "toaster", "sink", "refrigerator", "book",
    "clock", "vase", "scissors", "teddy bear", "hair drier", "toothbrush",
)

# real-style COCO captions and the categories they name, checked by hand
COCO_CAPTIONS = [
    ("A man riding a motorbike down a dirt road.", {"person", "motorcycle"}),
    ("Two dogs playing with a Frisbee in the park", {"dog", "frisbee"}),
    ("a young boy riding his bike next to a parked car", {"person", "bicycle", "car"}),
    ("A man on a dirt bike jumping over a hill", {"person", "motorcycle"}),  # not a bicycle
    ("A hot dog with mustard and onions on a bun", {"hot dog"}),  # no dog
    ("A dog eating a hot-dog off a plate", {"dog", "hot dog"}),
    ("Little girl hugging her teddy bear on the bed", {"person", "teddy bear", "bed"}),
    ("A brown bear walking through tall grass", {"bear"}),
    ("Two teddy bears sitting next to a polar bear", {"teddy bear", "bear"}),
    ("A baseball player swinging a bat at the ball", {"person", "baseball bat",
                                                      "sports ball"}),
    ("A catcher holding out his baseball glove", {"person", "baseball glove"}),
    ("A laptop computer on a desk next to a cellphone", {"laptop", "dining table",
                                                         "cell phone"}),
    ("A computer monitor, keyboard and mouse on a desk", {"tv", "keyboard", "mouse",
                                                          "dining table"}),
    ("A living room with a sofa, a TV and a potted plant", {"couch", "tv", "potted plant"}),
    ("a flat screen television mounted above the fireplace", {"tv"}),
    ("A box of assorted donuts and a cup of coffee", {"donut", "cup"}),
    ("Doughnuts and bagels on display", {"donut"}),
    ("A man on skis going down the hill", {"person", "skis"}),
    ("A skier holding ski poles at the top of a ski slope", {"person"}),  # names no skis
    ("Two wine glasses and a glass of water on the dining table", {"wine glass",
                                                                   "dining table"}),
    ("A pitcher of beer and a glass of wine", {"wine glass"}),  # no person, no cup
    ("A pitcher throws the ball to the batter", {"person", "sports ball"}),
    ("A baby elephant walking beside the herd", {"elephant"}),  # no person
    ("A woman holding a baby on a park bench", {"person", "bench"}),
    ("A man riding a jet ski in the ocean", {"person", "boat"}),  # no airplane, no skis
    ("A pit bull laying in the grass near cows", {"dog", "cow"}),
    ("The toilet bowl next to a bathroom sink", {"toilet", "sink"}),  # no bowl
    ("A cat on a queen size bed", {"cat", "bed"}),  # no person
    ("A man in a suit and tie talking on his cell phone", {"person", "tie", "cell phone"}),
    ("People waiting at a bus stop", {"person"}),  # no bus
    ("A red fire hydrant beside a stop sign", {"fire hydrant", "stop sign"}),
    ("A kitchen with a microwave oven above the stove", {"microwave", "oven"}),
    ("An old refridgerator and a toaster oven", {"refrigerator", "toaster"}),
    ("A jetliner parked at the gate while luggage is loaded", {"airplane", "suitcase"}),
    ("A surfer riding a wave on his surfboard", {"person", "surfboard"}),  # one person
    ("A skateboarder does a trick on a skate board", {"person", "skateboard"}),
    ("Plates of pizza, sandwiches and broccoli", {"pizza", "sandwich", "broccoli"}),
    ("A pair of scissors, a toothbrush and a hair dryer", {"scissors", "toothbrush",
                                                          "hair drier"}),
    ("A clock tower above a train station", {"clock"}),  # no train
    ("Sheep grazing as a sheep dog watches", {"sheep", "dog"}),
    ("a man holding a wii remote in front of the tv", {"person", "remote", "tv"}),
    ("A bowl of apples, oranges and bananas", {"bowl", "apple", "orange", "banana"}),
    ("A birthday cake, a knife, forks and spoons", {"cake", "knife", "fork", "spoon"}),
    ("Zebras and giraffes near a flock of birds", {"zebra", "giraffe", "bird"}),
    ("Horses pulling a carriage past a truck and a bus", {"horse", "truck", "bus"}),
    ("A boat sailing under a bridge with traffic lights", {"boat", "traffic light"}),
    ("A woman with an umbrella, a purse and a backpack", {"person", "umbrella", "handbag",
                                                          "backpack"}),
    ("A parking meter on a street", {"parking meter"}),
    ("A snowboarder carrying his snowboard", {"person", "snowboard"}),
    ("A kite flying above the beach", {"kite"}),
    ("A tennis player swings her racquet", {"person", "tennis racket"}),
    ("A bottle of wine next to a vase of flowers", {"bottle", "vase"}),
    ("Carrots and a hot dog", {"carrot", "hot dog"}),
    ("A chair next to a book shelf", {"chair", "book"}),
]


@pytest.mark.parametrize(("caption", "expected"), COCO_CAPTIONS)
def test_coco_captions_name_categories_by_synonyms(caption, expected):
    assert set(tasks_named(caption, COCO_CATEGORIES)) == expected


def test_coco_synonym_lists():
    from biasamp.wordlists import COCO_SYNONYMS, NOT_OBJECTS

    assert set(COCO_SYNONYMS) == set(COCO_CATEGORIES)
    phrases = [p for synonyms in COCO_SYNONYMS.values() for p in synonyms] + list(NOT_OBJECTS)
    assert len(phrases) == len(set(phrases))  # every phrase names one category (or none)
    assert all(p == " ".join(p.lower().split()) for p in phrases)  # lower case, single spaces
    for name, synonyms in COCO_SYNONYMS.items():
        assert name in synonyms
        # the category's own name matches it on its own (no longer phrase takes its words)
        assert tasks_named(f"there is a {name} here", [name]) == [name]


def test_person_is_named_by_gendered_nouns_not_by_pronouns():
    from biasamp.wordlists import FEMALE, MALE, caption_gender

    # COCO annotates a man or a woman as a person: a caption that names a gender by a noun
    # names a person (so a captioner's gender predictions come with the person category)
    for word in ("man", "women", "boy", "girls", "lady", "gentlemen", "bride", "policeman"):
        assert word in MALE | FEMALE
        assert tasks_named(f"a {word} standing", ["person"]) == ["person"]
    for word in ("child", "people", "skier", "players", "crowd", "baby"):
        assert tasks_named(f"a {word} standing", ["person"]) == ["person"]
    for words in ("he is standing", "a horse and her foal", "a dog on his bed"):
        assert caption_gender([words]) is not None  # the gender lists count pronouns
        assert tasks_named(words, ["person"]) == []
    # words that contain a person word are not it
    assert tasks_named("a snowman in the yard", ["person"]) == []


def test_longer_phrases_take_their_words_whichever_tasks_are_asked():
    # "hot dog" takes "dog" even when hot dogs are not among the tasks
    assert tasks_named("a hot dog on a plate", ["dog"]) == []
    assert tasks_named("a teddy bear on a shelf", ["bear"]) == []
    assert tasks_named("a dog next to a hot dog", ["dog"]) == ["dog"]
    # the order is that of the tasks, not of the caption
    assert tasks_named("a cat and a dog", ["dog", "cat"]) == ["dog", "cat"]


def test_tasks_without_synonyms_keep_their_own_names():
    # the toy world's activities: whole words of their own name, independent of COCO's lists
    assert tasks_named("A man riding a skateboard", ["riding a skateboard", "skateboard"]) == \
        ["riding a skateboard", "skateboard"]
    assert tasks_named("a man on a ski slope", ["ski"]) == ["ski"]
    assert tasks_named("a skier", ["ski"]) == []


def test_task_mentions_give_the_words_as_written():
    from biasamp.metrics.amplification import task_mentions

    caption = "Two Motor-Bikes and a CELL PHONE; a man."
    mentions = dict(task_mentions(caption, ["cell phone", "motorcycle", "person", "car"]))
    assert {t: caption[a:b] for t, (a, b) in mentions.items()} == {
        "cell phone": "CELL PHONE", "motorcycle": "Motor-Bikes", "person": "man"}


def test_word_lists_version_covers_the_synonyms():
    import hashlib
    import json

    from biasamp import wordlists

    data = wordlists.lists()
    assert data["coco_synonyms"]["motorcycle"][:3] == ["motorcycle", "motorcycles", "motorbike"]
    assert data["not_objects"] == list(wordlists.NOT_OBJECTS)
    assert wordlists.VERSION == hashlib.sha256(
        json.dumps(data, sort_keys=True).encode()).hexdigest()[:12]
