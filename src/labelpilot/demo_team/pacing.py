"""The simulated person's time passes for real, and the editor's heartbeat with it.

Every action the effort model charges takes its price in seconds, times the person's skill factor
(0.7: faster than the price table's average person, 1.5: slower), divided by the demo's speed (1.0:
real time; tests run at a few hundred times). While the person works, the editor sends a heartbeat
every 30 s of its clock (``editorEvents.js``: HEARTBEAT_MS, and only while the person acted within
the last minute, which a working simulated person always has); at a higher speed the editor's clock
runs faster too, so the server sees the same events per hour of simulated work, each standing for the
wall-clock interval it really covered (but at most one a second).
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field

from labelpilot.effort.ledger import Ledger
from labelpilot.effort.prices import ActionName, seconds

HEARTBEAT_S = 30.0
"""The editor's heartbeat interval (editorEvents.js HEARTBEAT_MS)."""
MIN_HEARTBEAT_WALL_S = 1.0
"""At high speeds the editor's clock would beat many times a second: at most one beat a second of wall
clock (each then says the one second it stands for), so a fast demo does not flood the server."""
MAX_HEARTBEAT_S = 300.0
"""The longest interval a heartbeat may claim (the server's limit)."""

Heartbeat = Callable[[float], object]
"""Sends one heartbeat standing for this many wall-clock seconds."""


class DemoStoppedError(Exception):
    """The demo is stopping: the simulated person leaves mid-action."""


@dataclass
class Pacer:
    """Spends a person's seconds as wall-clock time, beating the editor's heartbeat meanwhile."""

    stop: threading.Event
    speed: float = 1.0
    skill_factor: float = 1.0
    clock: Callable[[], float] = time.monotonic
    _heartbeat: Heartbeat | None = field(default=None, init=False)
    _next_beat: float = field(default=0.0, init=False)

    def __post_init__(self) -> None:
        if not self.speed > 0 or not self.skill_factor > 0:
            raise ValueError("speed and skill factor must be positive")

    @property
    def heartbeat_interval_s(self) -> float:
        """Wall-clock seconds between two heartbeats."""
        return max(HEARTBEAT_S / self.speed, MIN_HEARTBEAT_WALL_S)

    def open_editor(self, heartbeat: Heartbeat) -> None:
        """The task is open for editing: beat from now on (the first beat one interval later)."""
        self._heartbeat = heartbeat
        self._next_beat = self.clock() + self.heartbeat_interval_s

    def close_editor(self) -> None:
        """The task is being handed in: no more beats."""
        self._heartbeat = None

    def spend(self, person_seconds: float) -> None:
        """Let ``person_seconds`` of the simulated person's work pass; raises DemoStoppedError when told to stop."""
        if self.stop.is_set():
            raise DemoStoppedError
        end = self.clock() + person_seconds * self.skill_factor / self.speed
        while True:
            now = self.clock()
            if self._heartbeat is not None and now >= self._next_beat:
                self._heartbeat(min(self.heartbeat_interval_s, MAX_HEARTBEAT_S))
                self._next_beat = now + self.heartbeat_interval_s
            remaining = end - now
            if remaining <= 0:
                return
            wait = remaining if self._heartbeat is None else min(remaining, self._next_beat - now)
            if self.stop.wait(max(wait, 0.0)):
                raise DemoStoppedError


class PacedLedger(Ledger):
    """A ledger whose every charge takes its time on the pacer."""

    def __init__(self, pacer: Pacer) -> None:
        super().__init__()
        self.pacer = pacer

    def charge(self, action: ActionName, object_id: str | None = None, times: int = 1) -> None:
        super().charge(action, object_id, times)
        self.pacer.spend(seconds(action) * times)
