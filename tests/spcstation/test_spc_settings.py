"""SPC settings: station defaults, a spec's [spc], a characteristic's own, hostile sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from inspect_station.config import StationConfig
from inspect_station.locations import shipped_specs_dir
from inspect_station.spc.resolve import settings_for
from inspect_station.spec import PartSpec
from inspect_station.spec.loader import SpecFileError, load_spec

SPEC = """format = 1
part_number = "SPC-1"
revision = "A"
status = "released"
unit = "mm"

[spc]
baseline = 20

[spc.rules]
preset = "western-electric"

[[characteristic]]
id = "1"
name = "Length"
nominal = 10.00
tolerance = [-0.10, 0.10]
class = "critical"
decimals = 2

[characteristic.spc]
subgroup_size = 5

[[characteristic]]
id = "2"
name = "Width"
nominal = 5.00
tolerance = [-0.10, 0.10]
decimals = 2
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "SPC-1-A.toml"
    path.write_text(text)
    return path


def test_each_level_overrides_only_the_keys_it_names(tmp_path: Path):
    spec = load_spec(write(tmp_path, SPEC))
    station = StationConfig.model_validate(
        {"spc": {"baseline": 40, "subgroup_size": 1, "cusum": {"k": "0.5", "h": "4"}}}
    ).spc.defaults()
    length = settings_for(station, spec.spc, spec.get("1").spc)
    width = settings_for(station, spec.spc, spec.get("2").spc)
    assert (length.subgroup_size, length.baseline, length.rules.preset) == (
        5,
        20,
        "western-electric",
    )
    assert (width.subgroup_size, width.baseline, width.rules.enabled) == (1, 20, (1, 2, 5, 6))
    assert width.cusum is not None and str(width.cusum.h) == "4"  # from the station
    assert spec.get("1").class_.value == "critical"


def test_a_spec_without_spc_settings_keeps_its_content_hash():
    # The hash pinned by tests/test_spec_location.py: adding the [spc] key must not move it.
    spec = load_spec(shipped_specs_dir() / "BRK-1042-C.toml")
    assert spec.spc is None
    assert spec.content_hash == "6253de423b6c04808e5b3e4f3a0d998360200764bbb901737958326b9848dfbd"


def test_spc_settings_are_part_of_the_spec_content(tmp_path: Path):
    with_spc = load_spec(write(tmp_path, SPEC))
    other = load_spec(write(tmp_path, SPEC.replace("baseline = 20", "baseline = 30")))
    assert with_spc.content_hash != other.content_hash
    assert b'"spc"' in with_spc.canonical()


@pytest.mark.parametrize(
    ("change", "line", "message"),
    [
        ("baseline = 20", 8, "spc > baselin: unknown key (check its spelling)"),
        ('preset = "western-electric"', 11, "spc > rules > preset: Input should be"),
        ("subgroup_size = 5", 13, "characteristic 1 > spc > subgroup_size: Input should be"),
    ],
)
def test_a_hostile_spc_section_names_file_line_and_key(
    tmp_path: Path, change: str, line: int, message: str
):
    bad = {
        "baseline = 20": "baselin = 20",
        'preset = "western-electric"': 'preset = "shewhart"',
        "subgroup_size = 5": "subgroup_size = 11",
    }[change]
    path = write(tmp_path, SPEC.replace(change, bad))
    with pytest.raises(SpecFileError) as caught:
        load_spec(path)
    first = str(caught.value.problems[0])
    assert first.startswith(f"{path}:{line}: {message}"), first


def test_an_attribute_characteristic_refuses_spc_settings(tmp_path: Path):
    text = SPEC + '\n[[characteristic]]\nid = "3"\nname = "Thread"\nkind = "attribute"\n'
    text += "\n[characteristic.spc]\nbaseline = 20\n"
    path = write(tmp_path, text)
    with pytest.raises(SpecFileError) as caught:
        load_spec(path)
    assert "an attribute characteristic has no control chart" in str(caught.value)


def test_a_float_in_an_spc_section_is_refused(tmp_path: Path):
    text = SPEC.replace("[spc.rules]", "[spc.cusum]\nk = 0.5\nh = 5e0\n\n[spc.rules]")
    with pytest.raises(SpecFileError) as caught:
        load_spec(write(tmp_path, text))
    assert "SPC-1-A.toml:" in str(caught.value)


def test_the_station_defaults_carry_the_answer_code_lists():
    spc = StationConfig().spc
    assert spc.no_cause in spc.causes and "TOOL" in spc.causes and "ADJ" in spc.actions
    assert isinstance(PartSpec, type)
