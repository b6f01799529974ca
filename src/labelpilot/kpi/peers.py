"""How a person compares with their team: the team median, the top quartile (expert pace), the
person's percentile rank and their trend; and the names peers are shown under.

Quantiles interpolate linearly between the closest ranks (Hyndman and Fan's type 7, the default of
numpy and R). The percentile rank is the share of the team's values the person's value beats, ties
counting half: 100 * (worse + equal / 2) / n, with the person among the n. The top quartile is the
75th percentile of a KPI where higher is better and the 25th where lower is better.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass

HIGHER_IS_BETTER: Mapping[str, bool] = {
    "shapes_per_hour": True,
    "shapes_per_euro": True,
    "seconds_per_shape": False,
}
"""The KPIs a person is benchmarked on, and which way is better."""


@dataclass(frozen=True)
class PeerBenchmark:
    value: float | None
    median: float | None
    top_quartile: float | None
    percentile: float | None
    trend: float | None
    """this week's value over the week before's (None when either is undefined or the earlier is 0)"""

    def to_json(self) -> dict[str, float | None]:
        return asdict(self)


def quantile(values: Sequence[float], q: float) -> float | None:
    """The ``q`` quantile (0..1) of ``values``; None when there are none."""
    if not 0.0 <= q <= 1.0:
        raise ValueError(f"a quantile lies in 0..1, not {q}")
    if not values:
        return None
    ordered = sorted(values)
    position = q * (len(ordered) - 1)
    low = math.floor(position)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (position - low)


def median(values: Sequence[float]) -> float | None:
    return quantile(values, 0.5)


def top_quartile(values: Sequence[float], higher_is_better: bool) -> float | None:
    return quantile(values, 0.75 if higher_is_better else 0.25)


def percentile_rank(value: float | None, values: Sequence[float], higher_is_better: bool) -> float | None:
    if value is None or not values:
        return None
    worse = sum(1 for v in values if (v < value if higher_is_better else v > value))
    equal = sum(1 for v in values if v == value)
    return 100.0 * (worse + 0.5 * equal) / len(values)


def trend(this_week: float | None, last_week: float | None) -> float | None:
    if this_week is None or last_week is None or last_week == 0:
        return None
    return this_week / last_week


def peer_benchmark(
    value: float | None,
    team_values: Sequence[float],
    higher_is_better: bool,
    this_week: float | None,
    last_week: float | None,
) -> PeerBenchmark:
    """``team_values``: the KPI of every member with active time (the person included, if they have any)."""
    return PeerBenchmark(
        value=value,
        median=median(team_values),
        top_quartile=top_quartile(team_values, higher_is_better),
        percentile=percentile_rank(value, team_values, higher_is_better),
        trend=trend(this_week, last_week),
    )


def peer_labels(
    people: Sequence[int], viewer_id: int, names: Mapping[int, str], show_names: bool
) -> dict[int, str]:
    """The name each person is shown under: their own name, or "peer 1", "peer 2", ... in the order
    given, to someone who may not see names. The viewer always sees their own name."""
    labels: dict[int, str] = {}
    number = 0
    for user_id in people:
        if show_names or user_id == viewer_id:
            labels[user_id] = names.get(user_id, f"user {user_id}")
        else:
            number += 1
            labels[user_id] = f"peer {number}"
    return labels
