"""Seeded random streams: every random choice names its seed and its purpose."""

from __future__ import annotations

import numpy as np

# Named streams keep the draws for different purposes independent of each other.
STREAM_SPLIT, STREAM_PERMUTATION, STREAM_LABELS, STREAM_INIT = 11, 23, 37, 41
STREAM_EIG, STREAM_TRACE, STREAM_SLQ, STREAM_SHARP, STREAM_FLAT, STREAM_GRAD_NOISE = 101, 103, 107, 109, 113, 127


def rng_for(seed: int, stream: int, *extra: int) -> np.random.Generator:
    return np.random.default_rng([int(seed), int(stream), *map(int, extra)])
