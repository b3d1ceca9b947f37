"""Label modes, declared once as a table.

Each mode is one entry: a regular expression for its name, the draw of the labels
trained on, and the fraction of labels it replaces (the ``baseline_label_noise`` of
the ranking tables). The config schema's pattern, the Snakemake wildcard constraint
and the parser are all built from ``LABEL_MODE_REGEX`` (a test checks the schema).

Draws use only methods of the arrays and the generator they are given, so this
module imports no numpy and the Snakefile can import it at parse time.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass


def _correct(y_true, rng, n_classes, match):
    return y_true.copy()


def _random(y_true, rng, n_classes, match):
    """Uniform over the classes, independent of the image (Zhang et al. 2017, arXiv 1611.03530)."""
    return rng.integers(0, n_classes, size=len(y_true))


def _wrong(y_true, rng, n_classes, match):
    """Uniform over the K − 1 classes that are not the true one (the clean form of the
    original repository's always-wrong labels, which leaned towards class 9)."""
    return (y_true + rng.integers(1, n_classes, size=len(y_true))) % n_classes


def _corrupt(y_true, rng, n_classes, match):
    """Each label replaced with probability NN/100 by a uniform class, which may coincide
    with the true one (Zhang et al. 2017)."""
    p = _percent(match)
    replace = rng.random(len(y_true)) < p
    uniform = rng.integers(0, n_classes, size=len(y_true))
    out = y_true.copy()
    out[replace] = uniform[replace]
    return out


def _percent(match) -> float:
    return int(match.group("pct")) / 100.0


@dataclass(frozen=True)
class LabelMode:
    pattern: str  # full-match regex of the mode's name; named groups feed draw and noise
    draw: Callable  # (y_true int array, numpy Generator, n_classes, match) -> labels
    noise: Callable  # match -> fraction of labels drawn independently of the image
    example: str  # a valid name, for tests and docs
    usage: str  # how messages name the mode


LABEL_MODES = (
    LabelMode("correct", _correct, lambda m: 0.0, "correct", "correct"),
    LabelMode("random", _random, lambda m: 1.0, "random", "random"),
    LabelMode("wrong", _wrong, lambda m: 1.0, "wrong", "wrong"),
    LabelMode(r"corrupt(?P<pct>100|[1-9]?[0-9])", _corrupt, _percent, "corrupt20", "corruptNN (NN = 0..100)"),
)

# Alternatives without named groups: usable as a Snakemake wildcard constraint and in JSON Schema.
LABEL_MODE_REGEX = "|".join(re.sub(r"\(\?P<\w+>", "(", m.pattern) for m in LABEL_MODES)


def parse_label_mode(name: str):
    """(LabelMode, match) for a mode's name; ValueError naming the valid modes otherwise."""
    for mode in LABEL_MODES:
        match = re.fullmatch(mode.pattern, str(name))
        if match:
            return mode, match
    raise ValueError(f"unknown label mode {name!r}: use one of {', '.join(m.usage for m in LABEL_MODES)}")


def label_noise(name: str) -> float:
    """Fraction of the labels that a mode draws independently of the image (0 for correct)."""
    mode, match = parse_label_mode(name)
    return float(mode.noise(match))


def draw_labels(y_true, name: str, rng, n_classes: int):
    """Labels trained on, for every example of the pool, drawn from ``rng``."""
    mode, match = parse_label_mode(name)
    return mode.draw(y_true, rng, int(n_classes), match)
