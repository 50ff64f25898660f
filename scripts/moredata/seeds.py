"""Every random choice of a job flows from its config seed through these derived streams."""

from __future__ import annotations

from enum import IntEnum

import numpy as np


class Purpose(IntEnum):
    """What a derived seed is used for; distinct purposes give independent streams."""

    SPLIT = 1
    INIT = 2
    SHUFFLE = 3
    DATA = 4
    RESAMPLE = 5
    DEV_SPLIT = 6  # the second cut of a three-way split (save the best)


def derive_seed(seed: int, purpose: Purpose, *keys: int) -> int:
    """A 63-bit seed for one purpose, derived from the config seed (and optional keys)."""
    state = np.random.SeedSequence([seed, int(purpose), *keys]).generate_state(2, np.uint32)
    return int((int(state[0]) << 31) ^ int(state[1]))
