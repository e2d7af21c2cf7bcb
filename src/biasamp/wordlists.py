"""Gender from caption words, for datasets without person annotations (COCO, CC3M).

An image is ``male`` when its captions use words from MALE and none from FEMALE, ``female``
the other way round, and unknown (missing) when they use both or neither: never guessed. The
lists follow the word lists of the COCO gender-bias literature (Zhao et al. 2017; Hendricks et
al. 2018), singular and plural. A caption is gender-neutral when it uses no word of either list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

MALE = frozenset("""
man men male males boy boys gentleman gentlemen guy guys he him his himself husband husbands
father fathers dad dads son sons brother brothers uncle uncles grandfather grandfathers
grandpa king kings prince princes groom grooms boyfriend boyfriends businessman businessmen
sir mr policeman policemen fireman firemen sportsman sportsmen schoolboy schoolboys
""".split())

FEMALE = frozenset("""
woman women female females girl girls lady ladies gal gals she her hers herself wife wives
mother mothers mom moms daughter daughters sister sisters aunt aunts grandmother grandmothers
grandma queen queens princess princesses bride brides girlfriend girlfriends businesswoman
businesswomen madam mrs ms policewoman policewomen schoolgirl schoolgirls
""".split())

_WORD = re.compile(r"[a-z]+")


def words(caption: str) -> set[str]:
    return set(_WORD.findall(caption.lower()))


def mentions_gender(caption: str) -> bool:
    """True when the caption names a gender.

    >>> mentions_gender("A woman riding a bike"), mentions_gender("a person riding a bike")
    (True, False)
    """
    found = words(caption)
    return bool(found & MALE or found & FEMALE)


def caption_gender(captions: Iterable[str]) -> str | None:
    """``male``/``female`` when all gendered words of the captions agree, else None.

    >>> caption_gender(["A man on a horse", "a person riding"])
    'male'
    >>> caption_gender(["a man and a woman"]) is None
    True
    """
    found = set().union(*(words(c) for c in captions)) if captions else set()
    male, female = bool(found & MALE), bool(found & FEMALE)
    if male == female:
        return None
    return "male" if male else "female"
