"""SPC settings: presets expanded, parameters validated, errors that point at the TOML line."""

from __future__ import annotations

import tomllib
from decimal import Decimal

import pytest
from pydantic import BaseModel, ConfigDict, ValidationError

from inspect_station.spc import RuleSet, SpcSettings
from inspect_station.tomlfile import validation_problems


class _File(BaseModel):
    """A stand-in for a spec or station.toml that embeds an [spc] section."""

    model_config = ConfigDict(extra="forbid")
    spc: SpcSettings


def load(text: str) -> list[str]:
    try:
        _File.model_validate(tomllib.loads(text, parse_float=Decimal))
    except ValidationError as exc:
        return validation_problems("station.toml", text, exc)
    return []


def test_presets_expand_to_explicit_parameters_and_accept_overrides():
    rules = RuleSet(preset="western-electric", same_side=7)
    assert rules.record() == {
        "preset": "western-electric",
        "enabled": [1, 2, 5, 6],
        "same_side": 7,
        "trend": 6,
        "alternating": 14,
        "beyond_two": [2, 3],
        "beyond_one": [4, 5],
        "within_one": 15,
        "outside_one": 8,
        "range_chart": True,
    }
    assert RuleSet().enabled == (1, 2, 3, 4, 5, 6, 7, 8)
    assert RuleSet(preset="aiag").trend == 7


def test_a_full_section_loads():
    text = """
[spc]
subgroup_size = 5
baseline = 20

[spc.rules]
preset = "nelson"
enabled = [1, 2, 5, 6]
same_side = 7

[spc.ewma]
lambda = 0.1
L = 2.7
"""
    assert load(text) == []
    spc = _File.model_validate(tomllib.loads(text, parse_float=Decimal)).spc
    assert spc.chart == "xbar-r"
    assert spc.ewma is not None and spc.ewma.lam == Decimal("0.1")
    assert spc.detectors() == {"ewma": {"lambda": "0.1", "L": "2.7"}}


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        (
            "[spc.rules]\nenabled = [1, 9]\n",
            "station.toml:2: spc > rules > enabled: rule 9",
        ),
        ("[spc.rules]\n\nsame_side = 3\n", "station.toml:3: spc > rules > same_side: Input should"),
        ("[spc.rules]\nbeyond_two = [4, 3]\n", "station.toml:2: spc > rules > beyond_two: [4, 3]"),
        (
            '[spc.rules]\npreset = "shewhart"\n',
            "station.toml:2: spc > rules > preset: Input",
        ),
        ("[spc]\nsubgroup_size = 11\n", "station.toml:2: spc > subgroup_size: Input should be"),
        ("[spc.cusum]\nk = 0\n", "station.toml:2: spc > cusum > k: k must be above 0"),
        ("[spc.ewma]\nlambda = 0.001\n", "station.toml:2: spc > ewma > lambda: lambda must be"),
        ("[spc]\nrule = 1\n", "station.toml:2: spc > rule: unknown key"),
    ],
)
def test_a_bad_section_is_reported_with_its_line_and_key(text, expected):
    problems = load(text)
    assert problems and problems[0].startswith(expected), problems


def test_a_float_slipped_in_from_json_is_refused():
    with pytest.raises(ValidationError, match="decimal string"):
        SpcSettings.model_validate({"cusum": {"k": 0.5}})


def test_the_readme_example_loads():
    import re
    from pathlib import Path

    readme = (Path(__file__).resolve().parents[2] / "README.md").read_text()
    (block,) = [
        b for b in re.findall(r"```toml\n(.*?)```", readme, flags=re.S) if "[spc.cusum]" in b
    ]
    assert load(block) == []
    spc = _File.model_validate(tomllib.loads(block, parse_float=Decimal)).spc
    assert spc.rules.enabled == (1, 2, 5, 6) and spc.rules.same_side == 9
    assert spc.cusum is not None and spc.cusum.h == Decimal(5)
