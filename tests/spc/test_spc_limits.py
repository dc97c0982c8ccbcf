"""Limit versions: derived from a baseline, exact decimals, hashed like a journal record."""

from __future__ import annotations

import hashlib
import json
import math
import re
from decimal import Decimal
from fractions import Fraction

import pytest
from spckit import WHEN, series

from inspect_station.spc import (
    BaselineError,
    LimitsError,
    LimitVersion,
    Monitor,
    RuleSet,
    SpcSettings,
    derive_limits,
    in_force,
    limit_digits,
    replay,
    replay_as_it_was,
    select_baseline,
)
from inspect_station.spc.constants import CONSTANTS
from inspect_station.store import journal

READINGS = [
    "10.01",
    "10.03",
    "10.02",
    "10.05",
    "10.01",
    "10.00",
    "10.04",
    "10.02",
    "10.03",
    "10.02",
]


def baseline(values: list[str]) -> list[tuple[str, Decimal]]:
    return [(f"m{i + 1}", Decimal(v)) for i, v in enumerate(values)]


def derive(values: list[str], **kw: object) -> LimitVersion:
    settings = kw.pop("settings", SpcSettings(baseline=10))
    return derive_limits(
        baseline(values),
        settings,  # type: ignore[arg-type]
        part_number="BRK-1042",
        characteristic="1",
        unit="mm",
        resolution=kw.pop("resolution", Decimal("0.01")),  # type: ignore[arg-type]
        effective_from=kw.pop("effective_from", WHEN),  # type: ignore[arg-type]
        reason=kw.pop("reason", "first lock after capability study"),  # type: ignore[arg-type]
        **kw,  # type: ignore[arg-type]
    )


def test_individuals_limits_match_the_hand_computation():
    # mean 100.23 / 10 = 10.023; moving ranges sum 0.19 over 9 -> MR-bar 0.021111...;
    # sigma = MR-bar / 1.128 = 0.018715...; resolution 0.01 -> 4 decimals.
    lim = derive(READINGS)
    assert lim.digits == 4
    assert (lim.centre, lim.sigma, lim.sigma_within) == (
        Decimal("10.0230"),
        Decimal("0.0187"),
        Decimal("0.0187"),
    )
    assert (lim.ucl, lim.lcl) == (Decimal("10.0791"), Decimal("9.9669"))
    assert (lim.range_centre, lim.range_ucl, lim.range_lcl) == (
        Decimal("0.0211"),
        Decimal("0.0690"),
        Decimal("0.0000"),
    )
    # The published shortcut X-bar ± 2.660·MR-bar agrees to the table's rounding.
    mr_bar = Decimal("0.19") / 9
    assert abs(lim.ucl - (Decimal("10.023") + Decimal("2.660") * mr_bar)) < Decimal("0.0002")


@pytest.mark.parametrize("n", range(2, 11))
def test_xbar_r_limits_match_an_independent_exact_computation(n):
    values = [f"{25 + ((i * 7919) % 23 - 11) / 1000:.3f}" for i in range(25 * n)]
    lim = derive(values, settings=SpcSettings(subgroup_size=n), resolution=Decimal("0.001"))
    xs = [Fraction(v) for v in values]
    groups = [xs[i : i + n] for i in range(0, len(xs), n)]
    grand = sum(xs) / len(xs)
    r_bar = sum(max(g) - min(g) for g in groups) / len(groups)
    table = CONSTANTS[n]
    sigma = r_bar / Fraction(table.d2)
    digits = 5
    q = Decimal(1).scaleb(-digits)

    def dec(f: Fraction | float) -> Decimal:
        return (
            Decimal(f.numerator) / Decimal(f.denominator) if isinstance(f, Fraction) else Decimal(f)
        ).quantize(q)

    assert lim.chart == "xbar-r" and lim.subgroup_size == n and lim.digits == digits
    assert lim.centre == dec(grand)
    assert lim.sigma_within == dec(sigma)
    assert lim.sigma == dec(float(sigma) / math.sqrt(n))
    assert lim.range_centre == dec(r_bar)
    assert lim.range_ucl == dec(r_bar * Fraction(table.d4))
    assert lim.range_lcl == dec(r_bar * Fraction(table.d3))
    # X-bar ± A2·R-bar, the published shortcut, agrees to the rounding of A2 (3 decimals).
    shortcut = float(grand) + float(table.a2) * float(r_bar)
    assert abs(float(lim.ucl) - shortcut) <= 0.0006 * float(r_bar) + 2e-5


def test_published_constants_are_the_reference_table():
    assert CONSTANTS[2].d2 == Decimal("1.128") and CONSTANTS[2].d4 == Decimal("3.267")
    assert CONSTANTS[5].a2 == Decimal("0.577") and CONSTANTS[10].d3 == Decimal("0.223")
    for n, row in CONSTANTS.items():
        # A2 = 3 / (d2·sqrt(n)) to the table's rounding.
        assert abs(float(row.a2) - 3 / (float(row.d2) * math.sqrt(n))) < 0.0015


def test_the_hash_is_sha256_of_the_journal_canonical_bytes_of_the_body():
    lim = derive(READINGS)
    body = lim.body()
    assert lim.canonical_bytes() == journal.canonical_json(body)
    assert lim.content_hash == hashlib.sha256(journal.canonical_json(body)).hexdigest()
    # Numbers are decimal strings, never JSON numbers (integers aside: counts and versions).
    text = lim.canonical_bytes().decode()
    assert '"ucl":"10.0791"' in text and '"centre":"10.0230"' in text
    assert all(not isinstance(v, float) for v in json.loads(text).values())


def test_the_body_names_the_baseline_the_rules_and_the_reason():
    lim = derive(READINGS, settings=SpcSettings(baseline=10, rules=RuleSet(preset="aiag")))
    body = lim.body()
    assert body["baseline"] == [f"m{i}" for i in range(1, 11)] and body["baseline_count"] == 10
    assert body["rules"]["enabled"] == [1, 2, 3] and body["rules"]["same_side"] == 7
    assert body["effective_from"] == WHEN and body["previous_hash"] is None
    assert body["reason"] == "first lock after capability study"


def test_a_body_read_back_verifies_and_replays_exactly():
    lim = derive(READINGS)
    again = LimitVersion.from_body(json.loads(lim.canonical_bytes()), lim.content_hash)
    assert again == lim and again.content_hash == lim.content_hash


@pytest.mark.parametrize(
    ("field", "value", "message"),
    [
        ("ucl", "10.0792", "ucl and lcl must be centre ± 3·sigma"),
        ("ucl", 10.0791, "must be a decimal string"),
        ("centre", "1e1", "must be a decimal string"),
        ("sigma", "0.00001", "more than 4 decimals"),
        ("baseline_count", 9, "does not match"),
        ("effective_from", "2026-11-25 09:00", "UTC time"),
        ("previous_hash", "ab" * 32, "version 1 has no previous_hash"),
        ("colour", "red", "Extra inputs"),
    ],
)
def test_a_tampered_or_malformed_body_is_refused_naming_the_field(field, value, message):
    body = derive(READINGS).body()
    body[field] = value
    with pytest.raises(LimitsError, match="invalid") as caught:
        LimitVersion.from_body(body)
    assert message in str(caught.value)
    assert str(caught.value).count(".") >= 1 and "\n" not in str(caught.value)


def test_a_body_that_does_not_match_its_hash_is_refused():
    lim = derive(READINGS)
    body = lim.body()
    body["reason"] = "changed after signing"
    with pytest.raises(LimitsError, match="does not match its hash"):
        LimitVersion.from_body(body, lim.content_hash)


def test_a_new_version_chains_to_the_one_it_replaces():
    first = derive(READINGS)
    second = derive(
        READINGS[::-1], previous=first, effective_from="2026-12-01T07:00:00Z", reason="new tool"
    )
    assert second.version == 2 and second.previous_hash == first.content_hash
    second.follows(first)
    with pytest.raises(LimitsError, match="not after version 1"):
        derive(READINGS, previous=first, effective_from="2026-11-24T07:00:00Z")
    other = derive_limits(
        baseline(READINGS),
        SpcSettings(baseline=10),
        part_number="BRK-1042",
        characteristic="2",
        unit="mm",
        resolution=None,
        effective_from="2026-12-01T07:00:00Z",
        reason="x",
    )
    stranger = LimitVersion.from_body(
        {**other.body(), "version": 2, "previous_hash": first.content_hash}
    )
    with pytest.raises(LimitsError, match="characteristic 2, not BRK-1042 characteristic 1"):
        stranger.follows(first)


def test_a_short_baseline_is_refused_in_one_sentence():
    with pytest.raises(BaselineError, match=r"has 9 readings; at least 25 are needed"):
        derive(READINGS[:9], settings=SpcSettings())


def test_a_baseline_that_ends_inside_a_subgroup_is_refused():
    values = [f"10.{i % 7}" for i in range(52)]
    with pytest.raises(BaselineError, match="incomplete subgroup of 2"):
        derive(values, settings=SpcSettings(subgroup_size=5, baseline=10))


def test_a_baseline_without_spread_at_the_resolution_is_refused():
    with pytest.raises(BaselineError, match="no spread"):
        derive(["10.02"] * 10)


def test_a_baseline_listing_a_reading_twice_is_refused():
    points = baseline(READINGS)
    points[3] = points[2]
    with pytest.raises(BaselineError, match="twice"):
        derive_limits(
            points,
            SpcSettings(baseline=10),
            part_number="P",
            characteristic="1",
            unit="mm",
            resolution=None,
            effective_from=WHEN,
            reason="x",
        )


def test_digits_come_from_the_resolution_or_else_the_finest_reading():
    assert limit_digits(Decimal("0.001"), []) == 5
    assert limit_digits(Decimal("0.010"), []) == 4
    assert limit_digits(None, [Decimal("1.5"), Decimal("1.25")]) == 4


def test_what_would_have_alarmed_under_proposed_limits():
    lim = derive(READINGS)
    history = series(0.0, 0.05, 0.01, -0.09, centre="10.023")
    result = replay(history, lim)
    # r4 lies below the LCL 9.9669, and its jump from r3 (0.10) exceeds the MR limit 0.0690.
    assert [(v.chart, v.rule, v.refs) for v in result.violations] == [
        ("x", "1", ("r4",)),
        ("range", "1", ("r3", "r4")),
    ]
    assert result.alarms == 1
    assert result.points[-1].value == Decimal("9.933")
    assert result.by_rule() == {"rule 1": 1, "rule 1 (range)": 1}
    assert result.summary() == (
        "1 of 4 points would have alarmed under limits version 1: rule 1 × 1, rule 1 (range) × 1."
    )
    quiet = replay(series(0.0, 0.01, centre="10.023"), lim)
    assert quiet.summary() == "No point of 2 would have alarmed under limits version 1."


def test_the_baseline_is_the_first_n_readings_or_a_chosen_range():
    history = baseline(READINGS)
    assert select_baseline(history, first=3) == history[:3]
    assert select_baseline(history, start="m4", end="m6") == history[3:6]
    assert select_baseline(history, start="m9") == history[8:]
    for kwargs, message in [
        ({"first": 11}, "there are 10"),
        ({"start": "m4", "end": "m2"}, "ends (m2) before it starts (m4)"),
        ({"start": "x1"}, "Reading x1 is not in"),
        ({"first": 3, "start": "m1"}, "not both"),
        ({}, "not both"),
    ]:
        with pytest.raises(BaselineError, match=re.escape(message)):
            select_baseline(history, **kwargs)  # type: ignore[arg-type]


def test_the_version_in_force_is_the_latest_that_took_effect():
    first = derive(READINGS)
    second = derive(READINGS, previous=first, effective_from="2026-12-01T07:00:00Z")
    versions = [second, first]
    assert in_force(versions, "2026-11-25T08:59:59Z") is None
    assert in_force(versions, WHEN) is first
    assert in_force(versions, "2026-12-01T06:59:59.999999Z") is first
    assert in_force(versions, "2026-12-01T07:00:00Z") is second


def test_a_chart_replays_as_it_was_each_reading_against_its_version():
    first = derive(READINGS)
    wider = LimitVersion.from_body(
        {
            **first.body(),
            "version": 2,
            "previous_hash": first.content_hash,
            "sigma": "0.0300",
            "ucl": "10.1130",
            "lcl": "9.9330",
            "effective_from": "2026-12-01T07:00:00Z",
        }
    )
    wider.follows(first)
    readings = [
        ("a", "2026-11-24T10:00:00Z", Decimal("11.000")),  # before any lock: not judged
        ("b", "2026-11-26T10:00:00Z", Decimal("10.090")),  # above v1's UCL 10.0791
        ("c", "2026-12-02T10:00:00Z", Decimal("10.090")),  # inside v2's UCL 10.1130
    ]
    segments = replay_as_it_was(readings, [first, wider])
    assert [s.limits.version for s in segments] == [1, 2]
    assert [[v.refs for v in s.violations if v.chart == "x"] for s in segments] == [[("b",)], []]
    monitor = Monitor(first)
    verdict = monitor.verdict(monitor.feed("b", Decimal("10.090")))
    assert verdict["limits"] == first.content_hash and verdict["in_control"] is False
    assert verdict["violations"][0]["readings"] == ["b"]
    assert verdict["value"] == "10.090000"


@pytest.mark.parametrize("body", [["not", "an", "object"], "text", None])
def test_a_body_that_is_not_an_object_is_refused_in_one_sentence(body):
    with pytest.raises(LimitsError, match="must be a JSON object"):
        LimitVersion.from_body(body)  # type: ignore[arg-type]
