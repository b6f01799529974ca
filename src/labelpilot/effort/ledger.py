"""The annotator's time sheet: every priced action, with the object it was spent on (when known)."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field

from labelpilot.effort.prices import ActionName, seconds


@dataclass(frozen=True)
class Entry:
    action: ActionName
    seconds: float
    object_id: str | None


@dataclass
class Ledger:
    """Charges actions at the price table's seconds; ``object_id`` names the ground-truth object the
    annotator was working on, when it knew (None for scans, jumps between objects, false candidates)."""

    entries: list[Entry] = field(default_factory=list)

    def charge(self, action: ActionName, object_id: str | None = None, times: int = 1) -> None:
        for _ in range(times):
            self.entries.append(Entry(action, seconds(action), object_id))

    @property
    def seconds(self) -> float:
        return sum(e.seconds for e in self.entries)

    def seconds_by_action(self) -> dict[str, float]:
        totals: defaultdict[str, float] = defaultdict(float)
        for entry in self.entries:
            totals[entry.action] += entry.seconds
        return {name: round(value, 4) for name, value in sorted(totals.items())}

    def seconds_for(self, object_ids: set[str]) -> float:
        """Seconds charged to any of these objects."""
        return sum(e.seconds for e in self.entries if e.object_id in object_ids)

    def unattributed_seconds(self) -> float:
        return sum(e.seconds for e in self.entries if e.object_id is None)
