"""A virtual monotonic clock whose ``sleep`` advances it: retry tests never wait."""

from __future__ import annotations


class VirtualClock:
    def __init__(self, start: float = 1000.0) -> None:
        self.now = start
        self.slept: list[float] = []

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)
        self.now += seconds

    def advance(self, seconds: float) -> None:
        self.now += seconds


class FakeClock:
    """Monotonic seconds that advance only when the code sleeps (or the test says so); the
    REST-kit fakes' clock (``.t`` now, ``.sleeps`` waited)."""

    def __init__(self) -> None:
        self.t = 0.0
        self.sleeps: list[float] = []

    def __call__(self) -> float:
        return self.t

    def sleep(self, seconds: float) -> None:
        self.sleeps.append(seconds)
        self.t += seconds
