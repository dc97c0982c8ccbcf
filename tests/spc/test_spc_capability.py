"""Capability: hand-computed values, an independent numpy computation, Anderson-Darling."""

from __future__ import annotations

import math
import random
from decimal import Decimal

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from propertykit import examples

from inspect_station.spc import SpcError, capability
from inspect_station.spc.capability import ad_p_value, anderson_darling

READINGS = [
    "10.01", "10.03", "10.02", "10.05", "10.01", "10.00", "10.04", "10.02", "10.03", "10.02"
]  # fmt: skip
LSL, USL = Decimal("9.95"), Decimal("10.10")


def test_indices_match_the_hand_computation():
    # mean 10.023; MR-bar 0.19/9 -> sigma within 0.0187155; squared deviations sum
    # 0.002010 -> s = sqrt(0.002010/9) = 0.0149443.
    # Cp = 0.15/(6·0.0187155) = 1.336, CPU = 0.077/(3·0.0187155) = 1.371,
    # CPL = 0.073/0.0561466 = 1.300; Pp = 0.15/0.0896661 = 1.673, Ppk = 0.073/0.0448330 = 1.628.
    cap = capability(READINGS, lower=LSL, upper=USL, digits=5)
    record = cap.record()
    assert {k: record[k] for k in ("n", "mean", "sigma_within", "sigma_overall")} == {
        "n": 10,
        "mean": "10.02300",
        "sigma_within": "0.01872",
        "sigma_overall": "0.01494",
    }
    assert [record[k] for k in ("cp", "cpk", "cpu", "cpl")] == ["1.34", "1.30", "1.37", "1.30"]
    assert [record[k] for k in ("pp", "ppk", "ppu", "ppl")] == ["1.67", "1.63", "1.72", "1.63"]
    assert cap.notes == ()


def test_one_sided_limits_give_only_the_one_sided_index():
    upper_only = capability(READINGS, lower=None, upper=USL, digits=5)
    assert (upper_only.cp, upper_only.pp, upper_only.cpl, upper_only.ppl) == (None,) * 4
    assert upper_only.cpk == upper_only.cpu == Decimal("1.37")
    assert upper_only.ppk == upper_only.ppu == Decimal("1.72")
    lower_only = capability(READINGS, lower=LSL, upper=None, digits=5)
    assert lower_only.cpk == lower_only.cpl == Decimal("1.30")
    assert lower_only.cp is None and lower_only.cpu is None
    assert "One-sided specification" in lower_only.notes[0]


def test_without_limits_or_spread_or_enough_readings_the_indices_are_none():
    none = capability(READINGS, lower=None, upper=None, digits=5)
    assert (none.cp, none.cpk, none.pp, none.ppk) == (None,) * 4
    assert none.mean == Decimal("10.02300")
    flat = capability(["10.02"] * 12, lower=LSL, upper=USL, digits=4)
    assert flat.sigma_within == Decimal("0.0000") and flat.cpk is None
    assert any("no spread" in note for note in flat.notes)
    single = capability(["10.02"], lower=LSL, upper=USL, digits=4)
    assert single.sigma_overall is None and single.cp is None
    empty = capability([], lower=LSL, upper=USL, digits=4)
    assert empty.n == 0 and empty.mean is None


def test_subgroup_sigma_within_is_r_bar_over_d2_of_complete_subgroups():
    values = [f"{10 + ((i * 31) % 17 - 8) / 1000:.3f}" for i in range(53)]
    cap = capability(values, lower=LSL, upper=USL, digits=6, subgroup_size=5)
    xs = np.array([float(v) for v in values])
    groups = xs[:50].reshape(10, 5)
    expected = (groups.max(axis=1) - groups.min(axis=1)).mean() / 2.326
    assert cap.n == 53
    assert float(cap.sigma_within) == pytest.approx(expected, abs=1e-6)
    assert float(cap.sigma_overall) == pytest.approx(xs.std(ddof=1), abs=1e-6)


def test_bad_input_is_one_sentence():
    with pytest.raises(SpcError, match="not a number"):
        capability(["10.0", "ten"], lower=LSL, upper=USL, digits=3)
    with pytest.raises(SpcError, match="not a finite number"):
        capability(["10.0", "inf"], lower=LSL, upper=USL, digits=3)
    with pytest.raises(SpcError, match="above the upper limit"):
        capability(READINGS, lower=USL, upper=LSL, digits=3)


decimal_readings = st.lists(
    st.integers(min_value=-5000, max_value=5000).map(lambda i: Decimal(i).scaleb(-3) + 25),
    min_size=2,
    max_size=300,
)


@settings(max_examples=examples(150), deadline=None)
@given(
    values=decimal_readings,
    lower=st.one_of(st.none(), st.integers(-8000, -1000)),
    upper=st.one_of(st.none(), st.integers(1000, 8000)),
)
def test_capability_agrees_with_numpy_on_random_data(values, lower, upper):
    lsl = None if lower is None else Decimal(lower).scaleb(-3) + 25
    usl = None if upper is None else Decimal(upper).scaleb(-3) + 25
    cap = capability(values, lower=lsl, upper=usl, digits=6, index_digits=3)
    xs = np.array([float(v) for v in values])
    mean = xs.mean()
    sd = xs.std(ddof=1)
    within = np.abs(np.diff(xs)).mean() / 1.128
    assert float(cap.mean) == pytest.approx(mean, abs=1e-6)
    assert float(cap.sigma_overall) == pytest.approx(sd, abs=1e-6)
    assert float(cap.sigma_within) == pytest.approx(within, abs=1e-6)

    def check(got: Decimal | None, expected: float | None) -> None:
        if expected is None or not math.isfinite(expected):
            assert got is None
        else:
            assert got is not None and float(got) == pytest.approx(expected, abs=1.5e-3)

    lo = None if lsl is None else float(lsl)
    hi = None if usl is None else float(usl)
    for sigma, both, k in ((within, cap.cp, cap.cpk), (sd, cap.pp, cap.ppk)):
        if sigma == 0 or (lo is None and hi is None):
            assert both is None and k is None
            continue
        sides = [
            v
            for v in (
                (hi - mean) / (3 * sigma) if hi is not None else None,
                (mean - lo) / (3 * sigma) if lo is not None else None,
            )
            if v is not None
        ]
        check(both, (hi - lo) / (6 * sigma) if lo is not None and hi is not None else None)
        check(k, min(sides))


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.floats(-1e3, 1e3), min_size=8, max_size=400).filter(lambda v: np.std(v) > 1e-3))
def test_anderson_darling_statistic_equals_scipy(values):
    xs = [float(v) for v in values]
    a2, _, _ = anderson_darling(xs, float(np.mean(xs)), float(np.std(xs, ddof=1)))
    from scipy import stats  # here, not at the top: every test worker collects this module

    expected = stats.anderson(np.array(xs), dist="norm", method="interpolate").statistic
    assert a2 == pytest.approx(expected, rel=1e-7, abs=1e-9)


@pytest.mark.parametrize(
    ("critical", "alpha"),
    # D'Agostino & Stephens (1986), table 4.7 (as in the NIST/SEMATECH e-Handbook 1.3.5.14):
    # upper-tail points of A*² = A²(1 + 0.75/n + 2.25/n²), mean and sigma estimated.
    [(0.631, 0.10), (0.752, 0.05), (0.873, 0.025), (1.035, 0.01)],
)
def test_p_value_matches_the_published_critical_points(critical, alpha):
    assert ad_p_value(critical) == pytest.approx(alpha, rel=0.03)


def test_p_value_agrees_with_scipys_interpolated_tables():
    rng = random.Random(7)
    xs = [rng.gauss(10, 0.01) for _ in range(200)]
    _, _, p = anderson_darling(xs, float(np.mean(xs)), float(np.std(xs, ddof=1)))
    from scipy import stats

    expected = stats.anderson(np.array(xs), dist="norm", method="interpolate").pvalue
    assert 0.01 < expected < 0.05
    assert p == pytest.approx(expected, rel=0.1)


def test_normality_note_where_n_allows():
    rng = random.Random(1)
    normal = [f"{rng.gauss(10, 0.01):.5f}" for _ in range(200)]
    skewed = [f"{10 + rng.expovariate(100):.5f}" for _ in range(200)]
    ok = capability(normal, lower=LSL, upper=USL, digits=6).normality
    bad = capability(skewed, lower=LSL, upper=USL, digits=6).normality
    assert ok is not None and ok.p_value >= Decimal("0.05")
    assert "no evidence against normality" in ok.note
    assert bad is not None and bad.p_value < Decimal("0.01")
    assert "do not look normal" in bad.note
    assert capability(normal[:7], lower=LSL, upper=USL, digits=6).normality is None


def test_a_large_sample_rejection_carries_a_word_of_caution():
    rng = random.Random(3)
    coarse = [f"{rng.gauss(10, 0.01):.2f}" for _ in range(5000)]  # resolution = sigma
    note = capability(coarse, lower=LSL, upper=USL, digits=4).normality
    assert note is not None and note.p_value < Decimal("0.05")
    assert "such as the gauge's resolution" in note.note


def test_a_far_from_normal_series_gets_a_p_value_of_zero_not_a_crash():
    # 9,990 readings of 0 and 10 of 100: A*² in the thousands, where the fitted p-value curve
    # overflows; the note says p = 0 and the report goes on.
    values = ["0.000"] * 9_990 + ["100.000"] * 10
    cap = capability(values, lower=Decimal("-1"), upper=Decimal("101"), digits=3)
    assert cap.normality is not None
    assert cap.normality.p_value == 0
    assert "do not look normal" in cap.normality.note
    assert ad_p_value(12.9) < 1e-20
