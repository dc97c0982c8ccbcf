"""The capability figures are computed in binary floating point (over a list, or a numpy array as
``spc report`` passes): every printed figure agrees with the exact computation (fractions, then
a 50-digit square root) to the printed precision."""

from __future__ import annotations

import decimal
import itertools
from decimal import Decimal
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from propertykit import examples

from inspect_station.spc import capability
from inspect_station.spc.constants import constants

np = pytest.importorskip("numpy")

EXACT = decimal.Context(prec=50)


def _dec(value: Fraction) -> Decimal:
    return EXACT.divide(Decimal(value.numerator), Decimal(value.denominator))


def exact_figures(values: list[Decimal], n: int, lower: Decimal, upper: Decimal) -> dict:
    xs = [Fraction(v) for v in values]
    count = len(xs)
    mean = sum(xs) / count
    variance = sum((x - mean) ** 2 for x in xs) / (count - 1)
    sd = EXACT.sqrt(_dec(variance))
    if n == 1:
        spread = sum(abs(b - a) for a, b in itertools.pairwise(xs)) / (count - 1)
        d2 = constants(2).d2
    else:
        groups = [xs[i : i + n] for i in range(0, count - count % n, n)]
        spread = sum(max(g) - min(g) for g in groups) / len(groups)
        d2 = constants(n).d2
    within = EXACT.divide(_dec(spread), d2)
    m = _dec(mean)
    out = {"mean": m, "sigma_overall": sd, "sigma_within": within}
    for key, sigma in (("cp", within), ("pp", sd)):
        if sigma:
            out[key] = EXACT.divide(upper - lower, 6 * sigma)
            k = min(EXACT.divide(upper - m, 3 * sigma), EXACT.divide(m - lower, 3 * sigma))
            out["cpk" if key == "cp" else "ppk"] = k
    return out


VALUES = st.lists(
    st.decimals(min_value=Decimal("-5000"), max_value=Decimal("5000"), places=3),
    min_size=12,
    max_size=200,
)


@settings(max_examples=examples(150), deadline=None)
@given(VALUES, st.sampled_from([1, 1, 2, 3, 5]), st.integers(3, 6), st.booleans())
def test_every_printed_figure_agrees_with_the_exact_computation(values, n, digits, as_array):
    lower, upper = Decimal("-6000.5"), Decimal("6000.25")
    given_values = np.array([float(v) for v in values]) if as_array else [str(v) for v in values]
    cap = capability(given_values, lower=lower, upper=upper, digits=digits, subgroup_size=n)
    exact = exact_figures(values, n, lower, upper)
    for key, places in (
        ("mean", digits),
        ("sigma_overall", digits),
        ("sigma_within", digits),
        ("cp", cap.index_digits),
        ("cpk", cap.index_digits),
        ("pp", cap.index_digits),
        ("ppk", cap.index_digits),
    ):
        printed = getattr(cap, key)
        if key not in exact:
            assert printed is None
            continue
        assert printed is not None, key
        # A correct rounding of a number within 1e-9 (relative) of the exact value.
        half = Decimal(1).scaleb(-places) / 2
        slack = abs(exact[key]) * Decimal("1e-9") + Decimal("1e-12")
        assert abs(printed - exact[key]) <= half + slack, (key, printed, exact[key])


def test_an_array_and_a_list_give_the_same_figures():
    rng = np.random.default_rng(4)
    values = [f"{x:.3f}" for x in rng.normal(12.0, 0.02, 5000)]
    a = capability(
        np.array(values, dtype=float), lower=Decimal("11.9"), upper=Decimal("12.1"), digits=5
    )
    b = capability(values, lower=Decimal("11.9"), upper=Decimal("12.1"), digits=5)
    assert a == b


def test_the_normality_note_over_an_array_is_the_note_over_a_list():
    rng = np.random.default_rng(9)
    values = [f"{x:.3f}" for x in rng.normal(12.0, 0.02, 3000)] + ["12.500"] * 3
    a = capability(np.array(values, dtype=float), lower=None, upper=None, digits=5)
    b = capability(values, lower=None, upper=None, digits=5)
    assert a.normality is not None
    assert a.normality == b.normality
