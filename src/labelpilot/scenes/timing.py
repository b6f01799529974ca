"""How far apart a scene's frames are in time."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np

DEFAULT_FRAME_PERIOD_S = 0.1
"""Where timestamps do not say (one frame, or timestamps that do not increase): KITTI's 10 Hz."""


def frame_period_s(timestamps_us: Sequence[int]) -> float:
    """The median time between consecutive frames, in seconds (``DEFAULT_FRAME_PERIOD_S`` when unknown)."""
    if len(timestamps_us) < 2:
        return DEFAULT_FRAME_PERIOD_S
    period = float(np.median(np.diff(np.asarray(timestamps_us, dtype=np.float64)))) / 1e6
    return period if period > 0 else DEFAULT_FRAME_PERIOD_S
