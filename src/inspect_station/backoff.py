"""Exponential back-off between attempts, shared by the gauge readers and the shipper."""

from __future__ import annotations

import random
from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class Backoff:
    """Delays between attempts: ``initial * factor**attempt``, capped at ``maximum``.

    With ``jitter`` the delay is drawn uniformly from the upper half of that, so stations that
    failed together (a central store restarting) do not all come back at the same instant;
    without it the delay is exactly that (a gauge port reopened on its own schedule).
    """

    initial: float = 1.0
    """First delay, in seconds."""
    maximum: float = 60.0
    """Longest delay, in seconds."""
    factor: float = 2.0
    """Growth per failed attempt."""
    jitter: bool = True
    """Draw each delay from the upper half of its ceiling."""

    def ceiling(self, attempt: int) -> float:
        """The longest wait before attempt ``attempt + 1`` (``attempt`` counts from 0)."""
        return min(self.maximum, self.initial * self.factor ** min(max(attempt, 0), 64))

    def delay(self, attempt: int, rng: random.Random | None = None) -> float:
        """Seconds to wait before attempt ``attempt + 1`` (``attempt`` counts from 0)."""
        ceiling = self.ceiling(attempt)
        if not self.jitter:
            return ceiling
        return ceiling / 2 + (rng or random).uniform(0, ceiling / 2)
