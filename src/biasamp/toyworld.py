"""The toy world: procedurally rendered people with known gender, skin tone, activity and place.

A scene is one person (gender, skin tone, shirt colour) doing one activity (drawn as an object)
in one place (drawn as the background). Captions follow COCO's style, e.g.
"a woman in a red shirt cutting a cake in the kitchen"; a neutral caption says "a person".
Because every image is rendered from a known scene, dataset bias and what a generator does
to it are known exactly, so the workflow can be checked against planted effects.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
from PIL import Image, ImageDraw, ImageFilter

GENDERS = ("female", "male")
GENDER_WORDS = {"female": "woman", "male": "man"}
NEUTRAL_WORD = "person"
SKINS = ("light", "dark")

# Each activity has the gender that is over-represented in the real data ("majority"),
# mirroring the kind of co-occurrence skew Zhao et al. (2017) measured in COCO.
ACTIVITIES = {
    "riding a skateboard": "male",
    "cutting a cake": "female",
    "holding a surfboard": "male",
    "carrying a handbag": "female",
    "flying a kite": "male",
    "holding an umbrella": "female",
    "throwing a frisbee": "male",
    "using a laptop": "female",
}
PLACES = {
    # place: (upper background, lower background)
    "on the street": ((150, 190, 230), (110, 110, 115)),
    "in the kitchen": ((235, 225, 200), (150, 100, 60)),
    "at the beach": ((120, 180, 240), (235, 210, 150)),
    "in the park": ((170, 215, 240), (80, 160, 70)),
}
SHIRTS = {
    "red": (210, 40, 40),
    "blue": (40, 70, 210),
    "green": (30, 150, 60),
    "yellow": (235, 200, 30),
    "purple": (130, 50, 170),
}
SKIN_RGB = {"light": (240, 200, 170), "dark": (110, 70, 45)}
HAIR_RGB = (50, 35, 25)

_CAPTION = re.compile(
    r"^an? (?P<who>\w+) in an? (?P<shirt>\w+) shirt "
    r"(?P<activity>.+?) (?P<place>(on|in|at) the \w+)$"
)


@dataclass(frozen=True)
class Scene:
    gender: str
    skin: str
    activity: str
    place: str
    shirt: str


def article(word: str) -> str:
    return "an" if word[0] in "aeiou" else "a"


def caption_for(scene: Scene, neutral: bool) -> str:
    """The template caption of a scene; ``neutral`` says "person" instead of the gender."""
    who = NEUTRAL_WORD if neutral else GENDER_WORDS[scene.gender]
    return (
        f"{article(who)} {who} in {article(scene.shirt)} {scene.shirt} shirt "
        f"{scene.activity} {scene.place}"
    )


@dataclass(frozen=True)
class ParsedCaption:
    gender: str | None  # None for a gender-neutral caption
    shirt: str
    activity: str
    place: str


def parse_caption(caption: str) -> ParsedCaption:
    """Inverse of :func:`caption_for`; raises ValueError on text outside the toy vocabulary."""
    match = _CAPTION.match(caption.strip().lower())
    words = {v: k for k, v in GENDER_WORDS.items()}
    if (
        match is None
        or match["activity"] not in ACTIVITIES
        or match["place"] not in PLACES
        or match["shirt"] not in SHIRTS
        or (match["who"] != NEUTRAL_WORD and match["who"] not in words)
    ):
        raise ValueError(f"not a toy-world caption: {caption!r}")
    return ParsedCaption(
        gender=words.get(match["who"]),
        shirt=match["shirt"],
        activity=match["activity"],
        place=match["place"],
    )


def _jitter(rng: np.random.Generator, rgb: tuple[int, int, int], amount: int) -> tuple:
    return tuple(int(np.clip(c + rng.integers(-amount, amount + 1), 0, 255)) for c in rgb)


def _draw_object(draw: ImageDraw.ImageDraw, activity: str, x: float, s: float) -> None:
    """The activity's object, placed relative to the person's centre ``x`` (64-unit space)."""

    def box(x0, y0, x1, y1):
        return [x0 * s, y0 * s, x1 * s, y1 * s]

    if activity == "riding a skateboard":
        draw.rectangle(box(x - 10, 55, x + 10, 57), fill=(60, 40, 20))
        draw.ellipse(box(x - 9, 57, x - 6, 60), fill=(20, 20, 20))
        draw.ellipse(box(x + 6, 57, x + 9, 60), fill=(20, 20, 20))
    elif activity == "cutting a cake":
        draw.rectangle(box(x + 8, 36, x + 20, 46), fill=(250, 245, 235))
        draw.rectangle(box(x + 8, 34, x + 20, 37), fill=(240, 120, 170))
    elif activity == "holding a surfboard":
        draw.ellipse(box(x + 9, 14, x + 16, 58), fill=(250, 140, 20))
    elif activity == "carrying a handbag":
        draw.arc(box(x + 8, 30, x + 16, 40), 180, 360, fill=(90, 50, 20), width=max(1, int(s)))
        draw.rectangle(box(x + 7, 35, x + 17, 44), fill=(120, 70, 30))
    elif activity == "flying a kite":
        draw.polygon([(x + 18) * s, 2 * s, (x + 24) * s, 9 * s, (x + 18) * s, 16 * s,
                      (x + 12) * s, 9 * s], fill=(230, 30, 120))
        draw.line(box(x + 18, 16, x + 8, 34), fill=(40, 40, 40), width=1)
    elif activity == "holding an umbrella":
        draw.pieslice(box(x - 14, 2, x + 14, 22), 180, 360, fill=(20, 20, 90))
        draw.line(box(x, 12, x, 32), fill=(30, 30, 30), width=max(1, int(s)))
    elif activity == "throwing a frisbee":
        draw.ellipse(box(x + 12, 20, x + 22, 24), fill=(250, 250, 40))
    elif activity == "using a laptop":
        draw.rectangle(box(x - 9, 38, x + 9, 41), fill=(160, 160, 170))
        draw.polygon([(x - 9) * s, 38 * s, (x + 9) * s, 38 * s, (x + 7) * s, 28 * s,
                      (x - 7) * s, 28 * s], fill=(60, 60, 70))
    else:
        raise ValueError(f"unknown activity {activity!r}")


def face_box(x: float, size: int) -> tuple[int, int, int, int]:
    """Pixel box around the head of a person centred at ``x`` (64-unit space)."""
    s = size / 64
    return int((x - 8) * s), int(7 * s), int((x + 8) * s) + 1, int(25 * s) + 1


def render(
    scene: Scene, rng: np.random.Generator, size: int = 64, face_blur: float = 0.0
) -> Image.Image:
    """Render ``scene`` as a ``size``×``size`` RGB image (see :func:`render_with_face`)."""
    return render_with_face(scene, rng, size, face_blur)[0]


def render_with_face(
    scene: Scene, rng: np.random.Generator, size: int = 64, face_blur: float = 0.0,
    colour_shift: tuple[int, int, int] = (0, 0, 0),
) -> tuple[Image.Image, tuple[int, int, int, int]]:
    """Render ``scene`` as a ``size``×``size`` RGB image; also the pixel box of its head
    (:func:`face_box`), the face region the image-factor measures look at.

    ``rng`` varies position, colours and pixel noise, so two renders of one scene differ as two
    photos would. ``face_blur`` is the radius (in 64-unit pixels) of a Gaussian blur over the
    head, the artefact generated faces are known for; ``colour_shift`` is added to every pixel's
    (R, G, B) (a colour cast; equal values shift the luminance).
    """
    s = size / 64
    upper, lower = PLACES[scene.place]
    img = Image.new("RGB", (size, size), _jitter(rng, upper, 12))
    draw = ImageDraw.Draw(img)
    horizon = 40 + rng.integers(-3, 4)
    draw.rectangle([0, horizon * s, size, size], fill=_jitter(rng, lower, 12))

    x = 28 + float(rng.integers(-4, 5))
    skin = _jitter(rng, SKIN_RGB[scene.skin], 10)
    shirt = _jitter(rng, SHIRTS[scene.shirt], 15)
    if scene.gender == "female":
        # long hair behind the head and shoulders, and a dress widening to the knees
        draw.rectangle([(x - 8) * s, 9 * s, (x + 8) * s, 32 * s], fill=HAIR_RGB)
        draw.polygon([(x - 7) * s, 26 * s, (x + 7) * s, 26 * s, (x + 12) * s, 48 * s,
                      (x - 12) * s, 48 * s], fill=shirt)
        draw.rectangle([(x - 5) * s, 48 * s, (x - 2) * s, 56 * s], fill=skin)
        draw.rectangle([(x + 2) * s, 48 * s, (x + 5) * s, 56 * s], fill=skin)
    else:
        # short hair, a straight torso with broad shoulders, and trousers
        draw.rectangle([(x - 10) * s, 26 * s, (x + 10) * s, 42 * s], fill=shirt)
        draw.rectangle([(x - 8) * s, 42 * s, (x - 1) * s, 56 * s], fill=(50, 50, 80))
        draw.rectangle([(x + 1) * s, 42 * s, (x + 8) * s, 56 * s], fill=(50, 50, 80))
    draw.ellipse([(x - 6) * s, 12 * s, (x + 6) * s, 25 * s], fill=skin)
    if scene.gender == "male":
        draw.chord([(x - 6) * s, 10 * s, (x + 6) * s, 20 * s], 180, 360, fill=HAIR_RGB)
    _draw_object(draw, scene.activity, x, s)

    box = face_box(x, size)
    if face_blur > 0:
        face = img.crop(box).filter(ImageFilter.GaussianBlur(face_blur * s))
        img.paste(face, box)

    pixels = np.asarray(img, dtype=np.int16) + rng.integers(-6, 7, size=(size, size, 3))
    pixels += np.asarray(colour_shift, dtype=np.int16)
    return Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)), box
