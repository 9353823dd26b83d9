"""What a model call costs: a price table per model (USD per million tokens in and out), from config."""

from __future__ import annotations

from agents.llm.base import Usage


class Prices:
    def __init__(self, table: dict[str, tuple[float, float]]) -> None:
        self._table = dict(table)

    def priced(self, model: str) -> bool:
        return any(self._table.get(model, (0.0, 0.0)))

    def cost(self, model: str, usage: Usage) -> float:
        price_in, price_out = self._table.get(model, (0.0, 0.0))
        return (usage.tokens_in * price_in + usage.tokens_out * price_out) / 1_000_000
