"""Per-conversation ordering: messages of one conversation are handled one at a time, in arrival order
(asyncio locks are FIFO); different conversations run concurrently."""

from __future__ import annotations

import asyncio
from types import TracebackType


class _Lane:
    __slots__ = ("holders", "lock")

    def __init__(self) -> None:
        self.lock = asyncio.Lock()
        self.holders = 0


class _Hold:
    __slots__ = ("_key", "_lane", "_lanes")

    def __init__(self, lanes: dict[str, _Lane], key: str) -> None:
        self._lanes = lanes
        self._key = key
        lane = lanes.get(key)
        if lane is None:
            lane = lanes[key] = _Lane()
        lane.holders += 1
        self._lane = lane

    async def __aenter__(self) -> None:
        try:
            await self._lane.lock.acquire()
        except BaseException:
            self._release_lane()
            raise

    async def __aexit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                        tb: TracebackType | None) -> None:
        self._lane.lock.release()
        self._release_lane()

    def _release_lane(self) -> None:
        self._lane.holders -= 1
        if self._lane.holders == 0:
            del self._lanes[self._key]


class Lanes:
    def __init__(self) -> None:
        self._lanes: dict[str, _Lane] = {}

    def hold(self, key: str) -> _Hold:
        """`async with lanes.hold(conversation_id):` runs the block in that conversation's turn."""
        return _Hold(self._lanes, key)

    def __len__(self) -> int:
        return len(self._lanes)
