"""Gender from caption words on real-style captions that trip naive word lists."""

import pytest

from biasamp.wordlists import (
    FEMALE,
    MALE,
    NEUTRAL_PROMPTS,
    caption_gender,
    mentions,
    mentions_gender,
)

TRICKY = [
    ("A bedroom with a king size bed and a lamp.", None),
    ("a hotel room with two queen-sized beds", None),
    ("A queen bed with white sheets.", None),
    ("A king sized bed next to a woman's suitcase.", "female"),
    ("A woman grooms a horse in a stable.", "female"),  # the verb, not a groom
    ("A groom standing by the altar.", "male"),
    ("A kid dressed as spider-man at a party.", None),  # a costumed character
    ("A person in a Spider Man costume and his dog.", "male"),
    ("Here is a plate of food on the table.", None),  # "her" in "here"
    ("A manhole cover on the street.", None),  # "man" in "manhole"
    ("A human figure drawn on a wall.", None),
    ("An actress on stage holding flowers.", "female"),
    ("actor attends the premiere", None),
    ("Two dudes riding skateboards.", "male"),
    ("A nun walking down the street.", "female"),
    ("A queen waving from a carriage.", "female"),
]


@pytest.mark.parametrize("caption, gender", TRICKY)
def test_tricky_captions(caption, gender):
    assert caption_gender([caption]) == gender
    assert mentions_gender(caption) == (gender is not None)


def test_both_genders_are_named_but_give_no_gender():
    caption = "The bride and groom cut the cake."
    assert mentions_gender(caption) and caption_gender([caption]) is None


def test_the_lists_hold_the_references_words_and_not_the_verb():
    # words of Hendricks et al. 2018 (women-snowboard) and Zhao et al. 2017 our lists include
    assert {"man", "boy", "husband", "dude", "groom"} <= MALE
    assert "actor" not in MALE  # CC3M's hypernym for any named performer
    assert {"woman", "girl", "wife", "actress", "nun", "bride"} <= FEMALE
    assert "grooms" not in MALE and not MALE & FEMALE


ATTRIBUTE_CASES = [
    ("skin", "A dark-skinned man riding a bike.", True),
    ("skin", "a woman with fair skin", True),
    ("skin", "A black and white photo of a street.", False),
    ("skin", "Two black dogs and a white cat.", False),
    ("skin", "A Black woman smiling.", True),
    ("ethnicity", "An East Asian family eating dinner.", True),
    ("ethnicity", "A Latina teenager with a guitar.", True),
    ("ethnicity", "A plate of Indian food.", False),
    ("ethnicity", "Hispanics gather at a festival.", True),
    ("age", "A little boy flying a kite.", True),
    ("age", "A 5-year-old girl.", True),
    ("age", "an elderly couple on a bench", True),
    ("age", "An old church by the sea.", False),
    ("age", "a man holding a surfboard", False),
    ("age", "A baby elephant next to its mother.", True),  # over-cautious: the query is dropped
    ("region", "An African market at dusk.", True),
    ("region", "a person in a kitchen", False),
]


@pytest.mark.parametrize("attribute, caption, named", ATTRIBUTE_CASES)
def test_captions_that_name_an_attribute(attribute, caption, named):
    assert mentions(attribute, caption) == named


def test_the_neutral_prompts_name_no_attribute():
    for attribute in ("gender", "skin", "ethnicity", "age", "region"):
        assert not [p for p in NEUTRAL_PROMPTS if mentions(attribute, p)], attribute
