"""CUSUM and EWMA detectors for small persistent shifts, incremental like the Nelson rules.

Both follow Montgomery, *Introduction to Statistical Quality Control*, ch. 9:

- Tabular CUSUM: ``C+ = max(0, x - (mu0 + K) + C+)``, ``C- = max(0, (mu0 - K) - x + C-)``
  with ``K = k·sigma``, ``H = h·sigma``; it signals when C+ or C- exceeds H, and estimates the
  new mean as ``mu0 + K + C+/N+`` (or ``mu0 - K - C-/N-``), N the periods since it was last 0.
- EWMA: ``z = lambda·x + (1 - lambda)·z``, ``z0 = mu0``; limits
  ``mu0 ± L·sigma·sqrt(lambda / (2 - lambda) · (1 - (1 - lambda)^(2i)))`` (exact, time-varying).

After a signal a detector starts afresh (C+ = C- = 0; z = mu0, i = 0): one shift raises one
alarm, and the run length to the next alarm is that of a fresh chart. With Decimals every step
uses the package's fixed context, so a replay gives the same numbers to the last digit.
"""

from __future__ import annotations

import math
from collections import deque
from decimal import Decimal
from typing import Any

from inspect_station.spc import exact
from inspect_station.spc.rules import Refs, Violation, _span

MAX_REFS = 500
"""Most readings a CUSUM/EWMA violation lists (its newest ones); its sentence gives the span."""


def _show(value: Any, scale: int, digits: int) -> str:
    """A detector value in reading units, rounded for a sentence."""
    if isinstance(value, Decimal):
        return exact.text(exact.rounded(exact.CONTEXT.divide(value, scale), digits))
    return f"{value / scale:.{digits}f}"


class Cusum:
    """A two-sided tabular CUSUM on a chart's plotted statistic."""

    __slots__ = (
        "_add",
        "_c",
        "_digits",
        "_h",
        "_hi",
        "_hi_n",
        "_index",
        "_k",
        "_lo",
        "_lo_n",
        "_lower_ref",
        "_refs",
        "_scale",
        "_sub",
        "_text",
        "_upper_ref",
        "_zero",
    )

    def __init__(
        self, centre: Any, sigma: Any, k: Any, h: Any, *, scale: int = 1, digits: int = 4
    ) -> None:
        add, sub, mul = exact.arithmetic(centre)
        self._add, self._sub = add, sub
        self._c = centre
        big_k = mul(k, sigma)
        self._h = mul(h, sigma)
        self._k = big_k
        self._upper_ref = add(centre, big_k)
        self._lower_ref = sub(centre, big_k)
        self._zero = centre - centre
        self._hi = self._lo = self._zero
        self._hi_n = self._lo_n = 0
        self._index = -1
        self._refs: deque[Refs] = deque(maxlen=MAX_REFS)
        self._scale, self._digits = scale, digits
        self._text = f"CUSUM (k = {exact.text(Decimal(k))}, h = {exact.text(Decimal(h))})"

    def _per(self, total: Any, count: int) -> Any:
        """``total / count`` in this detector's arithmetic."""
        if isinstance(total, Decimal):
            return exact.CONTEXT.divide(total, count)
        return total / count

    @property
    def values(self) -> tuple[Any, Any]:
        """The current (C+, C-) in the plotted statistic's units."""
        return self._hi, self._lo

    def feed(self, value: Any, refs: Refs) -> Violation | None:
        """Add the next plotted point; the violation if the CUSUM passes its decision interval."""
        self._index += 1
        self._refs.append(refs)
        hi = self._add(self._hi, self._sub(value, self._upper_ref))
        lo = self._add(self._lo, self._sub(self._lower_ref, value))
        self._hi = hi if hi > 0 else self._zero
        self._lo = lo if lo > 0 else self._zero
        self._hi_n = self._hi_n + 1 if self._hi > 0 else 0
        self._lo_n = self._lo_n + 1 if self._lo > 0 else 0
        if self._hi > self._h:
            count, direction = self._hi_n, "up"
            estimate = self._add(self._upper_ref, self._per(self._hi, count))
        elif self._lo > self._h:
            count, direction = self._lo_n, "down"
            estimate = self._sub(self._lower_ref, self._per(self._lo, count))
        else:
            return None
        last = self._index
        first = last - count + 1
        kept = list(self._refs)[-count:]
        shown = tuple(ref for group in kept for ref in group)
        sentence = (
            f"{self._text}: the sum of deviations {direction} from the centre line passed the "
            f"decision interval ({_span(first, last)}); the mean appears to have shifted "
            f"{direction}, to about {_show(estimate, self._scale, self._digits)}."
        )
        self._hi = self._lo = self._zero
        self._hi_n = self._lo_n = 0
        self._refs.clear()
        return Violation("cusum", "cusum", last, first, shown, sentence)


class Ewma:
    """An EWMA chart with exact time-varying limits on a chart's plotted statistic."""

    __slots__ = (
        "_add",
        "_c",
        "_decimal",
        "_digits",
        "_i",
        "_index",
        "_lam",
        "_mul",
        "_one_minus",
        "_refs",
        "_run_side",
        "_run_start",
        "_scale",
        "_sigma_l",
        "_sub",
        "_text",
        "_widths",
        "_z",
    )

    def __init__(
        self, centre: Any, sigma: Any, lam: Any, width: Any, *, scale: int = 1, digits: int = 4
    ) -> None:
        add, sub, mul = exact.arithmetic(centre)
        self._add, self._sub, self._mul = add, sub, mul
        self._decimal = isinstance(centre, Decimal)
        self._c = centre
        self._lam = lam
        self._one_minus = sub(1, lam) if self._decimal else 1 - lam
        self._sigma_l = mul(width, sigma)
        self._z = centre
        self._i = 0
        self._index = -1
        self._widths: list[Any] = []
        self._refs: deque[Refs] = deque(maxlen=MAX_REFS)
        self._run_side = 0
        self._run_start = 0
        self._scale, self._digits = scale, digits
        self._text = f"EWMA (lambda = {exact.text(Decimal(lam))}, L = {exact.text(Decimal(width))})"

    def width(self, i: int) -> Any:
        """Half-width of the control band at the i-th point since the start (i from 1)."""
        widths = self._widths
        while len(widths) < i:
            j = len(widths) + 1
            if len(widths) > 1 and widths[-1] == widths[-2]:
                widths.append(widths[-1])  # converged at this precision: the asymptote
                continue
            if self._decimal:
                ctx = exact.CONTEXT
                decay = ctx.power(self._one_minus, 2 * j)
                factor = ctx.multiply(
                    ctx.divide(self._lam, ctx.subtract(2, self._lam)), ctx.subtract(1, decay)
                )
                widths.append(ctx.multiply(self._sigma_l, ctx.sqrt(factor)))
            else:
                factor = self._lam / (2 - self._lam) * (1 - self._one_minus ** (2 * j))
                widths.append(self._sigma_l * math.sqrt(factor))
        return widths[i - 1]

    @property
    def value(self) -> Any:
        """The current EWMA statistic in the plotted statistic's units."""
        return self._z

    def feed(self, value: Any, refs: Refs) -> Violation | None:
        """Add the next plotted point; the violation if the EWMA leaves its limits."""
        self._index += 1
        self._i += 1
        self._refs.append(refs)
        z = self._add(self._mul(self._lam, value), self._mul(self._one_minus, self._z))
        self._z = z
        side = 1 if z > self._c else -1 if z < self._c else 0
        if side != self._run_side:
            self._run_side, self._run_start = side, self._index
        half = self.width(self._i)
        if z > self._add(self._c, half):
            direction = "up"
        elif z < self._sub(self._c, half):
            direction = "down"
        else:
            return None
        last = self._index
        first = max(self._run_start, last - len(self._refs) + 1)
        kept = list(self._refs)[first - last - 1 :]
        shown = tuple(ref for group in kept for ref in group)
        sentence = (
            f"{self._text}: the weighted mean {_show(z, self._scale, self._digits)} left its "
            f"control limits ({_span(first, last)}); the mean appears to have shifted {direction}."
        )
        self._z = self._c
        self._i = 0
        self._run_side = 0
        self._refs.clear()
        return Violation("ewma", "ewma", last, first, shown, sentence)
