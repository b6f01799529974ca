"""The effort model's price table: Keystroke-Level Model operators and the annotation actions built from them.

The table is data (``action_prices.json`` beside this module, with its citation); this module loads it
once and checks that every action costs exactly the sum of its operators, so the two can never drift
apart. A change to the table is a change of the benchmark, never a tuning knob.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any, Literal, get_args

ActionName = Literal[
    "next_frame",
    "jump_to_frame",
    "next_item",
    "inspect",
    "scan_frame",
    "select",
    "accept",
    "reject",
    "mark_stationary",
    "move",
    "rotate",
    "resize",
    "set_class",
    "draw_cuboid",
    "submit",
]
ACTION_NAMES: tuple[ActionName, ...] = get_args(ActionName)
TABLE_FILE = "action_prices.json"


@dataclass(frozen=True)
class ActionPrice:
    """One action: what it is, its operator sequence and its seconds."""

    name: ActionName
    meaning: str
    operators: tuple[str, ...]
    seconds: float


@dataclass(frozen=True)
class PriceTable:
    citation: str
    operator_seconds: dict[str, float]
    actions: dict[ActionName, ActionPrice]

    def seconds(self, action: ActionName) -> float:
        return self.actions[action].seconds


def _parse(data: dict[str, Any]) -> PriceTable:
    operators = {str(k): float(v["seconds"]) for k, v in data["operators"].items()}
    actions: dict[ActionName, ActionPrice] = {}
    for name in ACTION_NAMES:
        entry = data["actions"].get(name)
        if entry is None:
            raise ValueError(f"{TABLE_FILE}: action {name!r} is missing")
        sequence = tuple(str(entry["operators"]).split())
        unknown = [op for op in sequence if op not in operators]
        if unknown:
            raise ValueError(f"{TABLE_FILE}: action {name!r} uses unknown operators {unknown}")
        total = round(sum(operators[op] for op in sequence), 6)
        seconds = float(entry["seconds"])
        if abs(total - seconds) > 1e-9:
            raise ValueError(
                f"{TABLE_FILE}: action {name!r} says {seconds} s but its operators sum to {total} s"
            )
        actions[name] = ActionPrice(name, str(entry["meaning"]), sequence, seconds)
    extra = sorted(set(data["actions"]) - set(ACTION_NAMES))
    if extra:
        raise ValueError(f"{TABLE_FILE}: unknown actions {extra}")
    return PriceTable(str(data["citation"]), operators, actions)


@cache
def price_table() -> PriceTable:
    """The table shipped with the package (read once)."""
    text = resources.files(__package__).joinpath(TABLE_FILE).read_text(encoding="utf-8")
    return _parse(json.loads(text))


def seconds(action: ActionName) -> float:
    return price_table().seconds(action)
