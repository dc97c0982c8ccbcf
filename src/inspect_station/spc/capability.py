"""Process capability: n, mean, sigma within and overall, Cp/Cpk/Pp/Ppk, a normality note.

Formulas (reference/standards.md, SPC; AIAG SPC manual):

- sigma within = MR-bar / d2(2) for individuals (moving ranges of consecutive readings), or
  R-bar / d2(n) for subgroups of n consecutive readings (a trailing incomplete subgroup counts in
  n, mean and sigma overall, not in sigma within);
- sigma overall = the sample standard deviation (n - 1);
- Cp = (USL - LSL) / 6·sigma within; CPU = (USL - mean) / 3·sigma within,
  CPL = (mean - LSL) / 3·sigma within; Cpk = min(CPU, CPL);
- Pp, PPU, PPL, Ppk the same with sigma overall;
- a one-sided specification has no Cp/Pp (None, shown as "—"); its Cpk is CPU or CPL;
- Anderson-Darling A² against a normal with the sample's mean and sigma, adjusted
  A*² = A²·(1 + 0.75/n + 2.25/n²) and its p-value by D'Agostino & Stephens (1986, table 4.9),
  for 8 <= n <= ``NORMALITY_MAX_N``.

Arithmetic is binary floating point, as in every SPC package: over a list, with correctly rounded
sums (``math.fsum``); over a numpy float array (what ``spc report`` passes where numpy is
installed), with numpy's pairwise sums. Results are rounded half to even to a stated number of
decimals and given as exact Decimals (``record()`` gives decimal strings); a hypothesis test
holds both to the exact computation at the printed precision.
"""

from __future__ import annotations

import math
import operator
from collections.abc import Iterable
from dataclasses import dataclass
from decimal import Decimal
from itertools import islice
from typing import Any

from inspect_station.spc import exact
from inspect_station.spc.constants import constants
from inspect_station.spc.errors import SpcError

NORMALITY_MIN_N = 8
"""Fewest readings the Anderson-Darling note is given for."""
NORMALITY_MAX_N = 100_000
"""Most readings the Anderson-Darling note is computed for; above it every real process
"fails" the test on trivial departures, so the note says so instead."""
LARGE_N = 1_000
"""Above this many readings a rejection of normality gets a word of caution."""
INDEX_DIGITS = 2
"""Default decimals of Cp, Cpk, Pp, Ppk (as most SPC packages show them)."""

_SQRT2 = math.sqrt(2.0)
AD_P_ZERO = 13.0
"""Adjusted A² from which the p-value is 0 to every printed digit (exp(-60) at 13)."""


@dataclass(frozen=True)
class Normality:
    """An Anderson-Darling normality check, reported as a note (not a verdict)."""

    a2: Decimal
    """The A² statistic (4 decimals)."""
    a2_adjusted: Decimal
    """A*² = A²·(1 + 0.75/n + 2.25/n²) (4 decimals)."""
    p_value: Decimal
    """Approximate p-value (D'Agostino & Stephens), 4 decimals, clipped to [0, 1]."""
    note: str
    """One sentence for the report."""

    def record(self) -> dict[str, str]:
        """The check as decimal strings."""
        return {
            "test": "anderson-darling",
            "a2": exact.text(self.a2),
            "a2_adjusted": exact.text(self.a2_adjusted),
            "p_value": exact.text(self.p_value),
            "note": self.note,
        }


@dataclass(frozen=True)
class Capability:
    """Capability of one characteristic over a set of readings."""

    n: int
    """Readings counted."""
    subgroup_size: int
    """1 for individuals (moving ranges), 2..10 for subgroups (ranges)."""
    lower: Decimal | None
    """Lower specification limit, if any."""
    upper: Decimal | None
    """Upper specification limit, if any."""
    digits: int
    """Decimals of the mean and sigmas."""
    index_digits: int
    """Decimals of the indices."""
    mean: Decimal | None
    """Arithmetic mean."""
    sigma_within: Decimal | None
    """MR-bar/d2 or R-bar/d2."""
    sigma_overall: Decimal | None
    """Sample standard deviation (n - 1)."""
    cp: Decimal | None
    """(USL - LSL) / 6·sigma within; None unless both limits exist."""
    cpk: Decimal | None
    """min(CPU, CPL): the one-sided index when only one limit exists."""
    cpu: Decimal | None
    """(USL - mean) / 3·sigma within."""
    cpl: Decimal | None
    """(mean - LSL) / 3·sigma within."""
    pp: Decimal | None
    """(USL - LSL) / 6·sigma overall."""
    ppk: Decimal | None
    """min(PPU, PPL)."""
    ppu: Decimal | None
    """(USL - mean) / 3·sigma overall."""
    ppl: Decimal | None
    """(mean - LSL) / 3·sigma overall."""
    normality: Normality | None
    """Anderson-Darling note, where n allows."""
    notes: tuple[str, ...]
    """Why an index is missing, in sentences."""

    def record(self) -> dict[str, Any]:
        """The result as the report's JSON wants it: numbers as decimal strings, missing None."""

        def s(value: Decimal | None) -> str | None:
            return None if value is None else exact.text(value)

        return {
            "n": self.n,
            "subgroup_size": self.subgroup_size,
            "lower": s(self.lower),
            "upper": s(self.upper),
            "mean": s(self.mean),
            "sigma_within": s(self.sigma_within),
            "sigma_overall": s(self.sigma_overall),
            "cp": s(self.cp),
            "cpk": s(self.cpk),
            "cpu": s(self.cpu),
            "cpl": s(self.cpl),
            "pp": s(self.pp),
            "ppk": s(self.ppk),
            "ppu": s(self.ppu),
            "ppl": s(self.ppl),
            "normality": None if self.normality is None else self.normality.record(),
            "notes": list(self.notes),
        }


def _floats(values: Iterable[Any]) -> list[float]:
    """Readings (decimal strings, Decimals, numbers) as floats; SpcError for a non-number."""
    try:
        return list(map(float, values))
    except (TypeError, ValueError) as exc:
        raise SpcError(f"A reading is not a number ({exc}).") from None


def _sigma_within(xs: list[float], n: int) -> float | None:
    """MR-bar/d2(2) or R-bar/d2(n); None when there is no spread to average."""
    if n == 1:
        if len(xs) < 2:
            return None
        diffs = map(abs, map(operator.sub, islice(xs, 1, None), xs))
        return math.fsum(diffs) / (len(xs) - 1) / float(constants(2).d2)
    groups = [max(g) - min(g) for g in zip(*[iter(xs)] * n, strict=False)]
    if not groups:
        return None
    return math.fsum(groups) / len(groups) / float(constants(n).d2)


def _array_sigmas(xs: Any, mean: float, n: int) -> tuple[float, float | None]:
    """(sigma overall, sigma within) of a numpy float array, as ``capability`` defines them."""
    centred = xs - mean
    sd = math.sqrt(float(centred.dot(centred)) / (len(xs) - 1))
    if n == 1:
        spread = float(abs(xs[1:] - xs[:-1]).mean())
        return sd, spread / float(constants(2).d2)
    groups = len(xs) // n
    if not groups:
        return sd, None
    block = xs[: groups * n].reshape(groups, n)
    ranges = block.max(axis=1) - block.min(axis=1)
    return sd, float(ranges.mean()) / float(constants(n).d2)


def _anderson_darling_array(xs: Any, mean: float, sd: float) -> tuple[float, float, float]:
    """``anderson_darling`` over a numpy array, to the same bits: the normal tails are computed
    once per distinct value (readings repeat at the gauge's resolution), the same IEEE
    operations on the same numbers, summed with ``math.fsum``."""
    import numpy as np

    n = len(xs)
    zs = np.sort((xs - mean) / sd)
    distinct, where = np.unique(zs, return_inverse=True)
    log, tiny = math.log, 1e-300
    low = np.array([log(max(0.5 * math.erfc(-z / _SQRT2), tiny)) for z in distinct.tolist()])
    high = np.array([log(max(0.5 * math.erfc(z / _SQRT2), tiny)) for z in distinct.tolist()])
    weights = 2.0 * np.arange(n) + 1.0
    terms = weights * (low[where] + high[where][::-1])
    a2 = -n - math.fsum(terms.tolist()) / n
    adjusted = a2 * (1 + 0.75 / n + 2.25 / (n * n))
    return a2, adjusted, ad_p_value(adjusted)


def _phi(z: float) -> float:
    """Standard normal CDF."""
    return 0.5 * math.erfc(-z / _SQRT2)


def ad_p_value(a2_adjusted: float) -> float:
    """P-value of the adjusted Anderson-Darling statistic (D'Agostino & Stephens, case 3)."""
    a = a2_adjusted
    if a >= AD_P_ZERO:
        # The fitted curve turns upward past a = 153 (and overflows); long before that its
        # p-value is below 1e-20, which the report shows as 0.
        return 0.0
    if a >= 0.6:
        p = math.exp(1.2937 - 5.709 * a + 0.0186 * a * a)
    elif a >= 0.34:
        p = math.exp(0.9177 - 4.279 * a - 1.38 * a * a)
    elif a >= 0.2:
        p = 1 - math.exp(-8.318 + 42.796 * a - 59.938 * a * a)
    else:
        p = 1 - math.exp(-13.436 + 101.14 * a - 223.73 * a * a)
    return min(1.0, max(0.0, p))


def anderson_darling(xs: list[float], mean: float, sd: float) -> tuple[float, float, float]:
    """(A², A*², p-value) of ``xs`` against a normal with the given mean and sd."""
    n = len(xs)
    zs = sorted((x - mean) / sd for x in xs)
    log = math.log
    tiny = 1e-300
    # ln Phi(z_i) and ln(1 - Phi(z_(n+1-i))) = ln Phi(-z_(n+1-i)), each without cancellation.
    lower = [log(max(0.5 * math.erfc(-z / _SQRT2), tiny)) for z in zs]
    upper = [log(max(0.5 * math.erfc(z / _SQRT2), tiny)) for z in zs]
    total = math.fsum((2 * i + 1) * (lower[i] + upper[n - 1 - i]) for i in range(n))
    a2 = -n - total / n
    adjusted = a2 * (1 + 0.75 / n + 2.25 / (n * n))
    return a2, adjusted, ad_p_value(adjusted)


def _normality(xs: Any, mean: float, sd: float | None) -> Normality | None:
    """The note, where n allows and the data have spread."""
    n = len(xs)
    if n < NORMALITY_MIN_N or sd is None or sd == 0 or n > NORMALITY_MAX_N:
        return None
    if hasattr(xs, "dtype"):
        a2, adjusted, p = _anderson_darling_array(xs, mean, sd)
    else:
        a2, adjusted, p = anderson_darling(xs, mean, sd)
    p_text = exact.rounded(p, 4)
    if p < 0.05:
        verdict = "the readings do not look normal; read Cp/Cpk/Pp/Ppk with care"
        if n > LARGE_N:
            verdict += (
                f" (with more than {LARGE_N:,} readings the test also flags departures too "
                "small to matter, such as the gauge's resolution)"
            )
    else:
        verdict = "no evidence against normality"
    note = f"Anderson-Darling A*² = {exact.rounded(adjusted, 3)}, p = {p_text}: {verdict}."
    return Normality(exact.rounded(a2, 4), exact.rounded(adjusted, 4), p_text, note)


def capability(
    values: Iterable[Any],
    *,
    lower: Decimal | None,
    upper: Decimal | None,
    digits: int,
    subgroup_size: int = 1,
    index_digits: int = INDEX_DIGITS,
    normality: bool = True,
) -> Capability:
    """Capability of ``values`` (in reading order) against the specification limits."""
    if not 1 <= subgroup_size <= 10:
        raise SpcError(f"Subgroup size {subgroup_size} is outside 1..10.")
    if lower is not None and upper is not None and lower > upper:
        raise SpcError(f"The lower limit {lower} is above the upper limit {upper}.")
    array: Any = values if hasattr(values, "dtype") and hasattr(values, "ndim") else None
    xs: Any = array if array is not None else _floats(values)
    n = len(xs)
    notes: list[str] = []
    mean = sd = within = None
    if n:
        mean = float(array.mean()) if array is not None else math.fsum(xs) / n
        if not math.isfinite(mean):
            raise SpcError("A reading is not a finite number.")
    if n >= 2:
        assert mean is not None
        m = mean
        if array is not None:
            sd, within = _array_sigmas(array, m, subgroup_size)
        else:
            sd = math.sqrt(math.fsum([(x - m) * (x - m) for x in xs]) / (n - 1))
            within = _sigma_within(xs, subgroup_size)
    else:
        notes.append("Fewer than 2 readings: no sigma and no index.")
    if subgroup_size > 1 and n >= 2 and within is None:
        notes.append(f"No complete subgroup of {subgroup_size}: no sigma within, no Cp/Cpk.")
    lo = None if lower is None else float(lower)
    hi = None if upper is None else float(upper)
    if lo is None and hi is None:
        notes.append("No specification limit: no capability index.")
    elif lo is None or hi is None:
        notes.append("One-sided specification: Cp and Pp are undefined; Cpk and Ppk are one-sided.")

    def indices(sigma: float | None, label: str) -> tuple[Any, ...]:
        if sigma is None or mean is None or (lo is None and hi is None):
            return None, None, None, None
        if sigma == 0:
            notes.append(f"Sigma {label} is 0 (no spread at the gauge's resolution): no index.")
            return None, None, None, None
        both = (hi - lo) / (6 * sigma) if lo is not None and hi is not None else None
        up = (hi - mean) / (3 * sigma) if hi is not None else None
        down = (mean - lo) / (3 * sigma) if lo is not None else None
        k = min(v for v in (up, down) if v is not None)
        return both, k, up, down

    cp, cpk, cpu, cpl = indices(within, "within")
    pp, ppk, ppu, ppl = indices(sd, "overall")

    def r(value: float | None, places: int) -> Decimal | None:
        return None if value is None else exact.rounded(value, places)

    return Capability(
        n=n,
        subgroup_size=subgroup_size,
        lower=lower,
        upper=upper,
        digits=digits,
        index_digits=index_digits,
        mean=r(mean, digits),
        sigma_within=r(within, digits),
        sigma_overall=r(sd, digits),
        cp=r(cp, index_digits),
        cpk=r(cpk, index_digits),
        cpu=r(cpu, index_digits),
        cpl=r(cpl, index_digits),
        pp=r(pp, index_digits),
        ppk=r(ppk, index_digits),
        ppu=r(ppu, index_digits),
        ppl=r(ppl, index_digits),
        normality=_normality(xs, mean, sd) if normality and mean is not None else None,
        notes=tuple(notes),
    )
