"""Lot export as AQDEF (Q-DAS ASCII transfer format) ``.dfq``: descriptions and values.

The file has CRLF line ends and is Windows-1252 by default (``--encoding utf-8`` writes UTF-8
with a byte order mark instead). A text a field cannot carry in the chosen encoding is refused
with one sentence, never replaced silently. Every line is ``Kxxxx[/i] value``:

- ``K0100`` the number of characteristics, first;
- part: ``K1001`` part number, ``K1002`` description, ``K1004`` spec revision, ``K1900``
  remark: the chain heads of the export (``chain heads BENCH-3 1204:3f2a…``, see ``verify
  --anchor``);
- per characteristic ``i`` (1, 2, ... in the spec's order): ``K2001/i`` number (balloon),
  ``K2002/i`` description, ``K2004/i`` type (0 variable, 1 attribute), ``K2022/i`` decimal
  places, ``K2101/i`` nominal, ``K2110/i`` / ``K2111/i`` lower / upper limit (only the limits
  that exist; a one-sided characteristic has one), ``K2112/i`` / ``K2113/i`` lower / upper
  allowance (for a nominal with a tolerance), ``K2142/i`` unit, ``K2106/i`` expanded
  uncertainty U of the decision rule (if any);
- values in the per-line form, one block per measurement record in record order:
  ``K0001/i`` value in the unit of the limits (attribute: 0 pass, 1 fail), ``K0002/i``
  attribute (0 valid; 255 for a value a correction superseded, kept so the record is complete
  but excluded from statistics), ``K0004/i`` date and time in UTC as ``dd.mm.yyyy/HH:MM:SS``,
  ``K0006/i`` lot with a leading ``#``, ``K0008/i`` inspector, ``K0012/i`` gauge asset (for a
  gauge reading), ``K0014/i`` part serial.

Limit types (K2120/K2121) are not written: whether a missing limit is a natural boundary is not
recorded in the spec. Corrections' reasons, dispositions and chain verification are not part of
AQDEF; they are in the CSV, JSON and HTML exports of the same lot.
"""

from __future__ import annotations

from typing import Any

from inspect_station.export.formats import HashingWriter, register_format
from inspect_station.export.model import ExportError, ExportOptions, LotData
from inspect_station.records import FIELD
from inspect_station.spec.model import Characteristic, Kind
from inspect_station.vocabulary import Verdict

DEFAULT_ENCODING = "cp1252"
"""What Q-DAS' own files use."""
ENCODINGS = ("cp1252", "utf-8")
"""Encodings a .dfq can be written in."""

_CHAR = FIELD["characteristic"]
_VALUE = FIELD["value"]
_IN_SPEC = FIELD["value_in_spec_unit"]
_KIND = FIELD["kind"]
_VERDICT = FIELD["verdict"]
_STATUS = FIELD["status"]
_AT = FIELD["measured_at"]
_INSPECTOR = FIELD["inspector"]
_GAUGE = FIELD["gauge_asset"]
_SERIAL = FIELD["serial"]


def _text(value: Any) -> str:
    """A field value on one line: line breaks and the AQDEF separators become spaces."""
    text = "" if value is None else str(value)
    if any(c in text for c in "\r\n\x0f\x14"):
        text = " ".join(text.replace("\x0f", " ").replace("\x14", " ").splitlines())
    return text


def aqdef_time(ts: str) -> str:
    """A record time (RFC 3339, UTC) as AQDEF's dd.mm.yyyy/HH:MM:SS."""
    return f"{ts[8:10]}.{ts[5:7]}.{ts[0:4]}/{ts[11:19]}"


def _characteristic_lines(i: int, ch: Characteristic, unit: str) -> list[str]:
    lines = [
        f"K2001/{i} {_text(ch.id)}",
        f"K2002/{i} {_text(ch.name)}",
        f"K2004/{i} {1 if ch.kind is Kind.ATTRIBUTE else 0}",
    ]
    if ch.kind is Kind.ATTRIBUTE:
        return lines
    lines.append(f"K2022/{i} {ch.display_decimals}")
    lower, upper = ch.limits
    if ch.nominal is not None:
        lines.append(f"K2101/{i} {ch.nominal}")
    if lower is not None:
        lines.append(f"K2110/{i} {lower}")
    if upper is not None:
        lines.append(f"K2111/{i} {upper}")
    if ch.tolerance is not None:
        lines.append(f"K2112/{i} {ch.tolerance[0]}")
        lines.append(f"K2113/{i} {ch.tolerance[1]}")
    lines.append(f"K2142/{i} {_text(unit)}")
    if ch.decision.uncertainty is not None:
        lines.append(f"K2106/{i} {ch.decision.uncertainty}")
    return lines


def chain_remark(data: LotData) -> str:
    """The chain heads for the part's remark (K1900, at most 255 characters): each station's
    ``seq:sha256``, the hashes cut to 16 hex digits when the full ones do not fit."""
    for digits in (64, 16):
        text = "chain heads " + ", ".join(
            f"{station} {seq}:{hash_[:digits]}" for station, seq, hash_ in data.heads
        )
        if len(text) <= 255:
            return text
    return text[:255]


def header_lines(data: LotData) -> list[str]:
    """The K0100, part and characteristic lines."""
    spec = data.spec
    lines = [
        f"K0100 {len(spec.characteristic)}",
        f"K1001 {_text(spec.part_number)}",
        f"K1002 {_text(spec.description)}",
        f"K1004 {_text(spec.revision)}",
        f"K1900 {chain_remark(data)}",
    ]
    for i, ch in enumerate(spec.characteristic, start=1):
        lines += _characteristic_lines(i, ch, spec.unit_of(ch))
    return lines


def _encode(text: str, encoding: str) -> bytes:
    try:
        return text.encode(encoding)
    except UnicodeEncodeError as exc:
        bad = exc.object[exc.start : exc.end]
        line_start = exc.object.rfind("\n", 0, exc.start) + 1
        line_end = exc.object.find("\r", exc.start)
        line = exc.object[line_start : line_end if line_end >= 0 else None]
        raise ExportError(
            f"The .dfq cannot be written in {encoding}: {bad!r} in the line {line!r} has no "
            f"{encoding} code; export with --encoding utf-8."
        ) from None


def write_dfq(data: LotData, out: HashingWriter, options: ExportOptions) -> None:
    """Write the lot as an AQDEF .dfq file to ``out``."""
    encoding = (options.encoding or DEFAULT_ENCODING).lower().replace("_", "-")
    if encoding in ("windows-1252", "cp-1252"):
        encoding = "cp1252"
    if encoding in ("utf8",):
        encoding = "utf-8"
    if encoding not in ENCODINGS:
        raise ExportError(
            f"A .dfq can be written in {' or '.join(ENCODINGS)}, not {options.encoding!r}."
        )
    index = {ch.id: i for i, ch in enumerate(data.spec.characteristic, start=1)}
    lot_field = "#" + _text(data.lot)
    if encoding == "utf-8":
        out.write(b"\xef\xbb\xbf")
    out.write(_encode("\r\n".join(header_lines(data)) + "\r\n", encoding))
    texts: dict[Any, str] = {}
    for page in data.measurement_rows():
        chunk = []
        for row in page:
            i = index.get(row[_CHAR])
            if i is None:
                raise ExportError(
                    f"A measurement of lot {data.lot} is of characteristic {row[_CHAR]!r}, "
                    f"which {data.spec.part_number} revision {data.spec.revision} does not have."
                )
            if row[_KIND] == "attribute":
                value = "0" if row[_VERDICT] == Verdict.PASS else "1"
            else:
                value = row[_IN_SPEC] if row[_IN_SPEC] is not None else row[_VALUE]
            ts = row[_AT]
            inspector = texts.get(row[_INSPECTOR])
            if inspector is None:
                inspector = texts[row[_INSPECTOR]] = _text(row[_INSPECTOR])
            block = (
                f"K0001/{i} {value}\r\n"
                f"K0002/{i} {'0' if row[_STATUS] == 'current' else '255'}\r\n"
                f"K0004/{i} {ts[8:10]}.{ts[5:7]}.{ts[0:4]}/{ts[11:19]}\r\n"
                f"K0006/{i} {lot_field}\r\n"
                f"K0008/{i} {inspector}\r\n"
            )
            gauge = row[_GAUGE]
            if gauge is not None:
                gauge_text = texts.get(gauge)
                if gauge_text is None:
                    gauge_text = texts[gauge] = _text(gauge)
                block += f"K0012/{i} {gauge_text}\r\n"
            chunk.append(block + f"K0014/{i} {_text(row[_SERIAL])}\r\n")
        out.write(_encode("".join(chunk), encoding))


register_format("dfq", write_dfq, order=30)
