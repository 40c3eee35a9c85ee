"""Clocks for the runner: a fake one for tests, a real one for the CLI."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from typing import Protocol


class Clock(Protocol):
    """What the runner needs of a clock."""

    def now(self) -> datetime: ...

    def sleep(self, seconds: float) -> None: ...


class FakeClock:
    """A clock that only moves when something sleeps on it: never waits for real."""

    def __init__(self, start: datetime | None = None) -> None:
        self._now = start or datetime(2024, 1, 1, tzinfo=UTC)
        self.sleeps: list[float] = []

    def now(self) -> datetime:
        return self._now

    def sleep(self, seconds: float) -> None:
        if seconds < 0:
            raise ValueError(f"cannot sleep a negative time: {seconds}")
        self.sleeps.append(seconds)
        self._now += timedelta(seconds=seconds)

    def advance(self, seconds: float) -> None:
        """Move time forward without recording a sleep (an action that takes time)."""
        self._now += timedelta(seconds=seconds)


class RealClock:
    """Wall-clock time; sleeps for real."""

    def now(self) -> datetime:
        return datetime.now(UTC)

    def sleep(self, seconds: float) -> None:
        time.sleep(max(0.0, seconds))
