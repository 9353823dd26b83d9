"""Prometheus metrics, named as in the reference guide (section 27.2), on a registry owned by the app."""

from __future__ import annotations

from typing import Any, Generic, TypeVar

from prometheus_client import CollectorRegistry, Counter, Gauge, Histogram, generate_latest

M = TypeVar("M", Counter, Histogram)
LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)


class Labelled(Generic[M]):
    """A labelled metric whose children are looked up once: `labels()` in prometheus_client takes a lock and
    validates every time, which shows on the per-message path."""

    def __init__(self, metric: M) -> None:
        self._metric = metric
        self._children: dict[tuple[str, ...], Any] = {}

    def labels(self, *values: str) -> Any:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class Metrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        r = self.registry
        self.interaction_duration = Labelled(
            Histogram(
                "thinklio_interaction_duration_seconds",
                "Interaction duration",
                ["tier"],
                buckets=LATENCY_BUCKETS,
                registry=r,
            )
        )
        self.triage_intent = Labelled(
            Counter("thinklio_triage_intent_total", "Triage classification count", ["intent"], registry=r)
        )
        self.llm_call_duration = Labelled(
            Histogram(
                "thinklio_llm_call_duration_seconds",
                "LLM API call duration",
                ["model"],
                buckets=LATENCY_BUCKETS,
                registry=r,
            )
        )
        self.tool_duration = Labelled(
            Histogram(
                "thinklio_tool_execution_duration_seconds",
                "Tool execution duration",
                ["tool"],
                buckets=LATENCY_BUCKETS,
                registry=r,
            )
        )
        self.interaction_cost = Counter("thinklio_interaction_cost", "Total LLM cost (USD)", registry=r)
        self.messages_received = Labelled(
            Counter("thinklio_messages_received_total", "Inbound messages accepted", ["channel"], registry=r)
        )
        self.duplicates = Labelled(
            Counter(
                "thinklio_messages_duplicate_total",
                "Redelivered messages answered from the store",
                ["channel"],
                registry=r,
            )
        )
        self.interactions = Labelled(
            Counter("thinklio_interactions_total", "Finished interactions", ["tier", "status"], registry=r)
        )
        self.deliveries_failed = Labelled(
            Counter("thinklio_delivery_failed_total", "Replies a channel failed to deliver", ["channel"], registry=r)
        )
        self.http_errors = Labelled(Counter("thinklio_http_errors_total", "HTTP error responses", ["code"], registry=r))
        self.store_batches = Counter("thinklio_store_batches_total", "Group commits", registry=r)
        self.in_flight = Gauge("thinklio_interactions_in_flight", "Interactions being worked on", registry=r)

    def render(self) -> bytes:
        return generate_latest(self.registry)
