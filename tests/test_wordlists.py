"""Gender from caption words on real-style captions that trip naive word lists."""

import pytest

from biasamp.wordlists import FEMALE, MALE, caption_gender, mentions_gender

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
