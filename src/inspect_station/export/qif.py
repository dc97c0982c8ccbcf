# Over 500 lines: one QIF 3.0 document, written in one streamed pass whose sections share ids.
"""Lot export as a QIF 3.0 results document (ANSI/DMSC QIF 3.0 = ISO 23952:2020).

One ``QIFDocument`` (namespace ``http://qifstandards.org/xsd/qif3``, ``versionQIF="3.0.0"``),
valid against the official schema ``QIFApplications/QIFDocument.xsd``, UTF-8, written as a
stream: the measurements are read in journal order and each part inspection's results are
written as soon as its last measurement record has been read, so a lot of any size exports in
flat memory. In document order:

- ``Attributes``: the export itself in the inspect-station extension (``EXTENSION_NAMESPACE``):
  where the records came from, the chain head (station, seq, hash) of every station whose
  records are in the document, the verification of each chain, the spec's content hash and
  whether the recorded content still hashes to it, the lot decision;
- ``Version`` (when the document was made), ``Header`` (this program, the organisation from
  ``station.toml``, what the document holds);
- ``StandardsDefinitions``: ISO 14253-1, the decision rules the characteristics are judged by
  (``Characteristics/FormalStandardId`` points to it);
- ``FileUnits``: the spec's unit as primary unit, every other unit of a limit as other units,
  each with its exact conversion to the SI unit;
- ``MeasurementResources``: one ``ManualMeasurementDevice`` per gauge asset and calibration the
  lot was measured with: the asset id as name, the instrument serial number, the calibration
  certificate and due date (``Calibration/ExpirationDate`` is the end of the due date, the last
  day the gauge may be used);
- ``Product``: the part (number as ``ModelNumber``, revision as ``Version``, description), its
  drawing (``PrintedDrawing``, which reference locations point to) and the spec's hash;
- ``Characteristics``: per characteristic of the spec a definition (``UserDefinedLinear``- or
  ``UserDefinedAngularCharacteristicDefinition`` with the absolute limits as ``Tolerance``
  ``MaxValue``/``MinValue`` and ``DefinedAsLimit`` true; an attribute characteristic as
  ``UserDefinedAttributeCharacteristicDefinition``), a nominal (``TargetValue``; pass/fail
  values of an attribute) and an item (``Name`` and ``CharacteristicDesignator`` = balloon
  id, criticality = class, the gauges used, the drawing location if the spec gives one);
- ``Results``: one ``MeasurementResults`` per part inspection (a part re-inspected after rework
  has two), in the journal order of their last measurement records, with
  ``InspectionTraceability`` (work order, start and end, operator, corrections and
  dispositions as ``NotedEvents``, and lot, serial, station and the result records in the
  extension), every measurement record as a ``CharacteristicMeasurement`` (``Value`` in the
  unit of the limits, ``Status`` PASS or FAIL as recorded, ``TimeStamp``, the gauge, the reject
  as ``NonConformanceDesignator``, and in the extension the record's station, seq, UUID and
  hash, the value and unit as measured, zone, deviation, decision rule, source and the raw
  gauge frame), the inspection's status (PASS accept, FAIL reject, ``OPEN`` while no result
  is recorded) and its part; then one ``ActualComponent`` per serial (serial number, lot,
  status of its latest inspection) and the lot's own traceability.

A value a correction superseded stays in the document with the status
``OtherCharacteristicStatus`` ``SUPERSEDED`` (its recorded verdict is in the extension); the
correction names what it supersedes and why, and is also a noted event of its inspection.
Characters XML cannot carry (control characters other than tab, line feed and carriage return)
are written as ``\\xNN``; the raw gauge frame is backslash-escaped as in the CSV export.
"""

from __future__ import annotations

import json
import re
import uuid as uuid_module
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from inspect_station import __version__
from inspect_station.export.formats import HashingWriter, register_format
from inspect_station.export.model import ExportError, ExportOptions, InspectionData, LotData
from inspect_station.records import Capability
from inspect_station.review.queries import DispositionInfo
from inspect_station.spec.model import Characteristic, Kind
from inspect_station.units import dimension
from inspect_station.vocabulary import PartResult, Verdict

QIF_NAMESPACE = "http://qifstandards.org/xsd/qif3"
"""Namespace of QIF 3.0."""
QIF_VERSION = "3.0.0"
"""Value of ``versionQIF``."""
EXTENSION_NAMESPACE = "urn:inspect-station:qif:1"
"""Namespace of the inspect-station elements inside ``UserDataXML`` (prefix ``is``)."""
EXTENSION_NAME = "inspect-station"
"""``name`` of every ``AttributeUser`` holding an extension element."""

# Conversion of each unit to its SI unit (metre, radian). Lengths are exact; angles are pi-based
# and given to 25 significant digits (they describe the unit, they never enter a verdict).
_SI_FACTORS: dict[str, str] = {
    "mm": "0.001",
    "um": "0.000001",
    "in": "0.0254",
    "deg": "0.01745329251994329576923691",
    "arcmin": "0.0002908882086657215961539486",
    "arcsec": "0.000004848136811095359935899141",
}
_STATUS = {Verdict.PASS: "PASS", Verdict.FAIL: "FAIL"}
_STATUS_ELEMENTS = {
    verdict: f"<CharacteristicStatusEnum>{enum}</CharacteristicStatusEnum>"
    for verdict, enum in _STATUS.items()
}
_CRITICALITY = {"critical": "CRITICAL", "major": "MAJOR", "minor": "MINOR"}
_ESCAPES = {
    "&": "&amp;",
    "<": "&lt;",
    ">": "&gt;",
    '"': "&quot;",
    "\t": "&#9;",
    "\n": "&#10;",
    "\r": "&#13;",
}
_SPECIAL = re.compile('[&<>"\x00-\x1f\ud800-\udfff\ufffe\uffff]')
_PLAIN_DECIMAL = re.compile(r"[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)")
_DATE = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}")
_FLUSH_AT = 1 << 20
_PAGE = 1000
"""Measurement rows per page read from a station's record (two pages are read ahead)."""
_ROW_COLUMNS = (
    "station",
    "seq",
    "uuid",
    "record_hash",
    "inspection",
    "characteristic",
    "value",
    "unit",
    "value_in_spec_unit",
    "spec_unit",
    "verdict",
    "zone",
    "deviation",
    "limit_broken",
    "exceeds_by",
    "decision_rule",
    "source",
    "manual_reason",
    "gauge_asset",
    "gauge_serial",
    "gauge_certificate",
    "gauge_calibration_due",
    "raw",
    "inspector",
    "measured_at",
    "supersedes",
    "reason",
)
"""The measurement columns the writer reads, in the order of its rows."""
_COLUMN = {name: index for index, name in enumerate(_ROW_COLUMNS)}
_STATION, _SEQ, _UUID = _COLUMN["station"], _COLUMN["seq"], _COLUMN["uuid"]
_INSPECTION, _CHARACTERISTIC = _COLUMN["inspection"], _COLUMN["characteristic"]
_VALUE, _UNIT, _INSPECTOR = _COLUMN["value"], _COLUMN["unit"], _COLUMN["inspector"]
_AT, _SUPERSEDES, _REASON = _COLUMN["measured_at"], _COLUMN["supersedes"], _COLUMN["reason"]


def _escape_char(match: re.Match[str]) -> str:
    char = match.group()
    found = _ESCAPES.get(char)
    if found is not None:
        return found
    code = ord(char)
    return f"\\x{code:02x}" if code < 0x100 else f"\\u{code:04x}"


def x(value: Any) -> str:
    """Text escaped for XML content and attribute values (quotes, tabs and line breaks kept)."""
    text = value if isinstance(value, str) else str(value)
    if _SPECIAL.search(text) is None:
        return text
    return _SPECIAL.sub(_escape_char, text)


def decimal_text(value: Any, what: str) -> str:
    """An exact decimal string as xs:decimal writes it (no exponent); ExportError if none."""
    text = str(value).strip()
    if _PLAIN_DECIMAL.fullmatch(text):
        return text
    try:
        number = Decimal(text)
    except InvalidOperation:
        number = Decimal("NaN")
    if not number.is_finite():
        raise ExportError(f"The {what} {text!r} is not a decimal number; QIF cannot carry it.")
    return format(number, "f")


def _attrs(pairs: Iterable[tuple[str, Any]]) -> str:
    """XML attributes for the pairs whose value is not None."""
    given = [
        (name, value if isinstance(value, str) else str(value))
        for name, value in pairs
        if value is not None
    ]
    if _SPECIAL.search("".join([value for _, value in given])) is None:
        return "".join([f' {name}="{value}"' for name, value in given])
    return "".join([f' {name}="{x(value)}"' for name, value in given])


def _result_element(r: dict[str, Any]) -> str:
    """An is:Result element: one result record of a part inspection."""
    station, seq, uuid, result = r["station"], r["seq"], r["uuid"], r["result"]
    defect, note, inspector = r["defect_code"], r["note"], r["inspector"]
    closed, supersedes = r["closed_at"], r["supersedes"]
    if (
        defect is None
        and note is None
        and supersedes is None
        and station is not None
        and seq is not None
        and uuid is not None
        and result is not None
        and inspector is not None
        and closed is not None
        and _SPECIAL.search(f"{station}{seq}{uuid}{result}{inspector}{closed}") is None
    ):
        # The common case (an accepted part), written directly.
        return (
            f'<is:Result station="{station}" seq="{seq}" uuid="{uuid}" result="{result}" '
            f'inspector="{inspector}" closedAt="{closed}"/>'
        )
    return (
        "<is:Result"
        + _attrs(
            [
                ("station", r["station"]),
                ("seq", r["seq"]),
                ("uuid", r["uuid"]),
                ("result", r["result"]),
                ("defectCode", r["defect_code"]),
                ("note", r["note"]),
                ("inspector", r["inspector"]),
                ("closedAt", r["closed_at"]),
                ("supersedes", r["supersedes"]),
            ]
        )
        + "/>"
    )


def _user_attribute(kind: str, element: str) -> str:
    """One AttributeUser holding an inspect-station extension element."""
    return (
        f'<AttributeUser name="{EXTENSION_NAME}" nameUserAttribute="{kind}">'
        f"<UserDataXML>{element}</UserDataXML></AttributeUser>"
    )


def _attributes(items: list[str]) -> str:
    return f'<Attributes n="{len(items)}">{"".join(items)}</Attributes>' if items else ""


@dataclass(frozen=True)
class _Device:
    """One gauge asset with the calibration in force when it measured."""

    id: int
    asset: str
    serial: str | None
    certificate: str | None
    due: str | None


class _Ids:
    """QIF ids (1, 2, ...), handed out in document order."""

    def __init__(self) -> None:
        self.last = 0

    def next(self) -> int:
        """The next free id."""
        self.last += 1
        return self.last

    def block(self, count: int) -> int:
        """Reserve ``count`` ids; returns the first."""
        first = self.last + 1
        self.last += count
        return first


def _unit_kind(unit: str) -> str:
    return "Angular" if dimension(unit) == "angle" else "Linear"


def _unit_element(unit: str) -> str:
    kind = _unit_kind(unit)
    si = "radian" if kind == "Angular" else "meter"
    return (
        f"<{kind}Unit><SIUnitName>{si}</SIUnitName><UnitName>{x(unit)}</UnitName>"
        f"<UnitConversion><Factor>{_SI_FACTORS[unit]}</Factor></UnitConversion></{kind}Unit>"
    )


class _Writer:
    """Writes one lot as a QIF document to a hashing stream, part by part."""

    def __init__(self, data: LotData, out: HashingWriter, options: ExportOptions) -> None:
        self.data = data
        self.out = out
        self.options = options
        self.spec = data.spec
        self.buffer: list[str] = []
        self.size = 0
        self.ids = _Ids()
        self.chars = {ch.id: ch for ch in self.spec.characteristic}
        self.rules: dict[str | None, str] = {}
        self.kinds = {ch.id: self._type(ch) for ch in self.spec.characteristic}
        self.char_facts: dict[str, tuple[str, int, str | None]] = {}
        """Balloon id -> (QIF type prefix, item id, the Value element's unit attribute)."""
        self.measured_facts: dict[str, tuple[str, int, str | None, str, Characteristic]] = {}
        """Balloon id -> what writing one of its measurements needs, in one look-up: the
        ``char_facts``, the unit of its limits and the characteristic."""
        self.statuses: dict[tuple[str | None, str], str] = {}
        """(part result, element name) -> the inspection status element (a handful)."""

    # -- output -------------------------------------------------------------------------------

    def emit(self, text: str) -> None:
        """Queue text; written out in chunks of about a megabyte."""
        self.buffer.append(text)
        self.size += len(text)
        if self.size >= _FLUSH_AT:
            self.flush()

    def flush(self) -> None:
        """Write what is queued."""
        if self.buffer:
            self.out.write("".join(self.buffer).encode("utf-8"))
            self.buffer = []
            self.size = 0

    # -- planning -----------------------------------------------------------------------------

    def plan(self) -> None:
        """Give every element its id before anything is written (idMax comes first)."""
        data = self.data
        ids = self.ids
        self.standard_id = ids.next()
        self.devices: dict[tuple[Any, ...], _Device] = {}
        self.item_devices: dict[str, list[int]] = {}
        for row in data.source.lot_gauges(data.lot):
            key = (
                row["gauge_asset"],
                row["gauge_serial"],
                row["gauge_certificate"],
                row["gauge_calibration_due"],
            )
            device = self.devices.get(key)
            if device is None:
                device = self.devices[key] = _Device(ids.next(), *key)
            used = self.item_devices.setdefault(row["characteristic"], [])
            if device.id not in used:
                used.append(device.id)
        self.part_id = ids.next()
        self.definition_external_id = ids.next()
        self.drawing_id = ids.next()
        self.char_ids: dict[str, tuple[int, int, int]] = {
            ch.id: (ids.next(), ids.next(), ids.next()) for ch in self.spec.characteristic
        }
        for ch in self.spec.characteristic:
            kind = self.kinds[ch.id]
            value_unit = None
            if ch.kind is Kind.VARIABLE:
                attribute = "linearUnit" if kind == "UserDefinedLinear" else "angularUnit"
                value_unit = f' {attribute}="{x(self.spec.unit_of(ch))}"'
            self.char_facts[ch.id] = (kind, self.char_ids[ch.id][2], value_unit)
            self.measured_facts[ch.id] = (
                kind,
                self.char_ids[ch.id][2],
                value_unit,
                self.spec.unit_of(ch),
                ch,
            )
        self.by_serial: dict[str, list[InspectionData]] = {}
        for inspection in data.inspections:
            self.by_serial.setdefault(inspection.serial, []).append(inspection)
        self.component_ids = {serial: ids.next() for serial in sorted(self.by_serial)}
        self.result_ids = {i.uuid: ids.next() for i in data.inspections}
        self.disposition_event_ids: dict[str, int] = {}
        for inspection in data.inspections:
            for result in inspection.results:
                for d in data.dispositions.get(result["uuid"], []):
                    self.disposition_event_ids[d.uuid] = ids.next()
        # One id per measurement record and one per correction's noted event, handed out as
        # the parts are written.
        self.next_measurement_id = ids.block(data.measurement_count)
        self.last_measurement_id = self.next_measurement_id + data.measurement_count - 1
        self.next_event_id = ids.block(len(data.superseded_by))
        self.last_event_id = self.next_event_id + len(data.superseded_by) - 1
        self.units = self._units()
        self.superseded_by = data.superseded_by
        self.lot_text = x(data.lot)
        organisation = self.options.organisation
        self.traceability_head = (
            f"<InspectingOrganization><Name>{x(organisation)}</Name></InspectingOrganization>"
            if organisation
            else ""
        ) + (f"<OrderNumber>{x(data.work_order)}</OrderNumber>" if data.work_order else "")
        """The start of every part inspection's traceability: organisation and work order."""

    def _units(self) -> list[str]:
        """Units of the limits: the spec's first, then the others in spec order."""
        units = [self.spec.unit]
        for ch in self.spec.characteristic:
            if ch.kind is Kind.VARIABLE:
                unit = self.spec.unit_of(ch)
                if unit not in units:
                    units.append(unit)
        return units

    # -- the document before the results ------------------------------------------------------

    def head(self) -> None:
        """Everything before the measurement results."""
        data = self.data
        self.emit(
            '<?xml version="1.0" encoding="UTF-8"?>\n'
            f'<QIFDocument xmlns="{QIF_NAMESPACE}" xmlns:is="{EXTENSION_NAMESPACE}" '
            f'versionQIF="{QIF_VERSION}" idMax="{self.ids.last}">\n'
            f"<QPId>{uuid_module.uuid4()}</QPId>\n"
        )
        self.emit(_attributes([_user_attribute("export", self._export_element())]) + "\n")
        self.emit(f"<Version><TimeCreated>{x(data.generated_at)}</TimeCreated></Version>\n")
        organisation = self.options.organisation
        author = (
            f"<Author><Organization>{x(organisation)}</Organization></Author>"
            if organisation
            else ""
        )
        heads = "; ".join(
            f"{station} seq {seq} ({hash_})"
            for station, (seq, hash_) in sorted(data.source.heads.items())
            if station in data.stations
        )
        self.emit(
            f"<Header><Application><Name>inspect-station {x(__version__)}</Name></Application>"
            f"{author}<Description>{x(self._description(heads))}</Description>"
            f"<Scope>lot {x(data.lot)}</Scope></Header>\n"
        )
        self.emit(
            f'<StandardsDefinitions n="1"><Standard id="{self.standard_id}">'
            "<Organization><StandardsOrganizationEnum>ISO</StandardsOrganizationEnum>"
            "</Organization><Designator>14253-1</Designator><Year>2017</Year>"
            "<Title>Decision rules for verifying conformity or nonconformity with "
            "specifications</Title></Standard></StandardsDefinitions>\n"
        )
        self.emit(self._file_units() + "\n")
        if self.devices:
            self.emit(self._resources() + "\n")
        self.emit(self._product() + "\n")
        self.emit(self._characteristics() + "\n")

    def _description(self, heads: str) -> str:
        data, spec = self.data, self.spec
        return (
            f"Inspection results of lot {data.lot}: part {spec.part_number} revision "
            f"{spec.revision}, {len(self.by_serial)} parts, {len(data.inspections)} "
            f"inspections, {data.measurement_count} measurement records; lot decision "
            f"{data.decision.decision}; chains {data.verification_text}; made from the "
            f"records up to {heads or 'no head'}."
        )

    def _export_element(self) -> str:
        data = self.data
        spec = self.spec
        parts = [
            "<is:Export"
            + _attrs(
                [
                    ("format", "1"),
                    ("software", f"inspect-station {__version__}"),
                    ("generated", data.generated_at),
                    ("lot", data.lot),
                    ("workOrder", data.work_order),
                    ("lotSize", data.lot_size),
                    ("lotDecision", data.decision.decision),
                    ("organisation", self.options.organisation),
                ]
            )
            + ">",
            "<is:Source"
            + _attrs([("kind", data.source.kind), ("description", data.source.description)])
            + "/>",
            "<is:Spec"
            + _attrs(
                [
                    ("partNumber", spec.part_number),
                    ("revision", spec.revision),
                    ("status", spec.status.value),
                    ("hash", data.spec_hash),
                    ("hashVerified", "true" if data.spec_hash_verified else "false"),
                ]
            )
            + "/>",
        ]
        for station, (seq, hash_) in sorted(data.source.heads.items()):
            if station in data.stations:
                parts.append(
                    "<is:ChainHead" + _attrs([("station", station), ("seq", seq), ("hash", hash_)])
                )
                parts[-1] += "/>"
        if data.verification is None:
            parts.append('<is:Verification status="NOT VERIFIED"/>')
        else:
            parts.append(f'<is:Verification status="{data.verification_text}">')
            for check in data.verification:
                parts.append(
                    "<is:Chain"
                    + _attrs(
                        [
                            ("station", check.station),
                            ("ok", "true" if check.ok else "false"),
                            ("records", check.records),
                            ("headSeq", check.head_seq),
                            ("headHash", check.head_hash),
                            ("badSeq", check.bad_seq),
                            ("reason", check.reason),
                        ]
                    )
                    + "/>"
                )
            parts.append("</is:Verification>")
        plan = data.decision.plan
        decision = data.decision
        parts.append(
            "<is:Sampling"
            + _attrs(
                [
                    ("level", plan.get("level") if plan else None),
                    ("aql", plan.get("aql") if plan else None),
                    ("codeLetter", plan.get("code_letter") if plan else None),
                    ("sampleSize", plan.get("sample_size") if plan else None),
                    ("accept", plan.get("accept") if plan else None),
                    ("reject", plan.get("reject") if plan else None),
                    ("parts", decision.parts),
                    ("closed", decision.closed),
                    ("rejected", decision.rejected),
                    ("inSample", decision.in_sample),
                    ("nonconformingInSample", decision.nonconforming_in_sample),
                    ("decision", decision.decision),
                ]
            )
            + "/>"
        )
        parts.append("</is:Export>")
        return "".join(parts)

    def _file_units(self) -> str:
        primary_linear = next((u for u in self.units if _unit_kind(u) == "Linear"), "mm")
        primary_angular = next((u for u in self.units if _unit_kind(u) == "Angular"), None)
        primary = (_unit_element(primary_angular) if primary_angular else "") + _unit_element(
            primary_linear
        )
        others = [u for u in self.units if u not in (primary_linear, primary_angular)]
        # OtherUnits lists angular units before linear ones.
        others.sort(key=lambda u: _unit_kind(u) != "Angular")
        other = (
            f'<OtherUnits n="{len(others)}">{"".join(_unit_element(u) for u in others)}'
            "</OtherUnits>"
            if others
            else ""
        )
        return f"<FileUnits><PrimaryUnits>{primary}</PrimaryUnits>{other}</FileUnits>"

    def _resources(self) -> str:
        devices = []
        for device in self.devices.values():
            description = f"Gauge asset {device.asset}"
            if device.certificate:
                description += f", calibration certificate {device.certificate}"
            if device.due:
                description += f", calibration due {device.due}"
            gauge = "<is:Gauge" + _attrs(
                [
                    ("asset", device.asset),
                    ("serialNumber", device.serial),
                    ("certificate", device.certificate),
                    ("calibrationDue", device.due),
                ]
            )
            # The due date is the last day the gauge may be used: it expires at that day's end.
            calibration = (
                '<Calibrations n="1"><Calibration>'
                f"<ExpirationDate>{device.due}T23:59:59</ExpirationDate>"
                "</Calibration></Calibrations>"
                if device.due and _DATE.fullmatch(device.due)
                else ""
            )
            serial = f"<SerialNumber>{x(device.serial)}</SerialNumber>" if device.serial else ""
            devices.append(
                f'<ManualMeasurementDevice id="{device.id}"><Name>{x(device.asset)}</Name>'
                f"<Description>{x(description)}</Description>{serial}"
                f"{_attributes([_user_attribute('gauge asset', gauge + '/>')])}"
                f"{calibration}</ManualMeasurementDevice>"
            )
        return (
            f'<MeasurementResources><MeasurementDevices n="{len(devices)}">'
            f"{''.join(devices)}</MeasurementDevices></MeasurementResources>"
        )

    def _product(self) -> str:
        spec = self.spec
        nominals = "".join(f"<Id>{ids[1]}</Id>" for ids in self.char_ids.values())
        description = (
            f"<Description>{x(spec.description)}</Description>" if spec.description else ""
        )
        spec_element = "<is:Spec" + _attrs(
            [
                ("partNumber", spec.part_number),
                ("revision", spec.revision),
                ("hash", self.data.spec_hash),
                ("hashVerified", "true" if self.data.spec_hash_verified else "false"),
            ]
        )
        return (
            f'<Product><PartSet n="1"><Part id="{self.part_id}">'
            f"{_attributes([_user_attribute('spec', spec_element + '/>')])}"
            f"<Header><Name>{x(spec.part_number)}</Name>{description}</Header>"
            f"<ModelNumber>{x(spec.part_number)}</ModelNumber>"
            f"<Version>{x(spec.revision)}</Version>"
            f'<CharacteristicNominalIds n="{len(self.char_ids)}">{nominals}'
            "</CharacteristicNominalIds>"
            f'<DefinitionExternal n="1" id="{self.definition_external_id}">'
            f'<PrintedDrawing id="{self.drawing_id}"><Name>{x(spec.part_number)}</Name>'
            f"<Version>{x(spec.revision)}</Version>{description}"
            f"<DrawingNumber>{x(spec.part_number)}</DrawingNumber></PrintedDrawing>"
            "</DefinitionExternal></Part></PartSet>"
            f"<RootPart><Id>{self.part_id}</Id></RootPart></Product>"
        )

    def _type(self, ch: Characteristic) -> str:
        if ch.kind is Kind.ATTRIBUTE:
            return "UserDefinedAttribute"
        return f"UserDefined{_unit_kind(self.spec.unit_of(ch))}"

    def _characteristics(self) -> str:
        definitions, nominals, items = [], [], []
        for ch in self.spec.characteristic:
            definition_id, nominal_id, item_id = self.char_ids[ch.id]
            kind = self._type(ch)
            definitions.append(self._definition(ch, kind, definition_id))
            nominals.append(self._nominal(ch, kind, definition_id, nominal_id))
            devices = self.item_devices.get(ch.id, [])
            device_ids = (
                f'<MeasurementDeviceIds n="{len(devices)}">'
                + "".join(f"<Id>{d}</Id>" for d in devices)
                + "</MeasurementDeviceIds>"
                if devices
                else ""
            )
            location = (
                f"<LocationOnDrawing><DrawingId>{self.drawing_id}</DrawingId>"
                f"<DrawingZone>{x(ch.location)}</DrawingZone></LocationOnDrawing>"
                if ch.location
                else ""
            )
            items.append(
                f'<{kind}CharacteristicItem id="{item_id}"><Name>{x(ch.id)}</Name>'
                f"{self._designator(ch)}{device_ids}"
                f"<CharacteristicNominalId>{nominal_id}</CharacteristicNominalId>{location}"
                f"</{kind}CharacteristicItem>"
            )
        n = len(self.spec.characteristic)
        return (
            f"<Characteristics><FormalStandardId>{self.standard_id}</FormalStandardId>"
            f'<CharacteristicDefinitions n="{n}">{"".join(definitions)}'
            "</CharacteristicDefinitions>"
            f'<CharacteristicNominals n="{n}">{"".join(nominals)}</CharacteristicNominals>'
            f'<CharacteristicItems n="{n}">{"".join(items)}</CharacteristicItems>'
            "</Characteristics>"
        )

    def _designator(self, ch: Characteristic) -> str:
        return (
            f"<CharacteristicDesignator><Designator>{x(ch.id)}</Designator>"
            f"<Criticality><LevelEnum>{_CRITICALITY[ch.class_.value]}</LevelEnum></Criticality>"
            "</CharacteristicDesignator>"
        )

    def _definition(self, ch: Characteristic, kind: str, definition_id: int) -> str:
        extension = "<is:Characteristic" + _attrs(
            [
                ("balloon", ch.id),
                ("kind", ch.kind.value),
                ("class", ch.class_.value),
                ("unit", self.spec.unit_of(ch) if ch.kind is Kind.VARIABLE else None),
                ("nominal", ch.nominal),
                ("tolerance", " ".join(str(t) for t in ch.tolerance) if ch.tolerance else None),
                ("rule", ch.decision.rule.value if ch.kind is Kind.VARIABLE else None),
                ("uncertainty", ch.decision.uncertainty),
                ("guard", ch.decision.guard_width if ch.decision.guard_width else None),
                ("resolution", ch.step),
                ("rounding", ch.rounding if ch.rounding != "none" else None),
                ("gaugeType", ch.gauge),
                ("method", ch.method),
                ("location", ch.location),
                ("note", ch.note or None),
            ]
        )
        head = (
            f'<{kind}CharacteristicDefinition id="{definition_id}">'
            f"{_attributes([_user_attribute('characteristic', extension + '/>')])}"
            f"<Name>{x(ch.name)}</Name>"
        )
        if ch.kind is Kind.ATTRIBUTE:
            what = ch.name if not ch.method else f"{ch.name} ({ch.method})"
            return (
                f"{head}<WhatToMeasure>{x(what)}</WhatToMeasure></{kind}CharacteristicDefinition>"
            )
        unit = self.spec.unit_of(ch)
        unit_attr = "linearUnit" if kind == "UserDefinedLinear" else "angularUnit"
        lower, upper = ch.limits
        tolerance = ""
        if upper is not None:
            tolerance += (
                f'<MaxValue {unit_attr}="{x(unit)}">{decimal_text(upper, "limit")}</MaxValue>'
            )
        if lower is not None:
            tolerance += (
                f'<MinValue {unit_attr}="{x(unit)}">{decimal_text(lower, "limit")}</MinValue>'
            )
        return (
            f"{head}<Tolerance>{tolerance}<DefinedAsLimit>true</DefinedAsLimit></Tolerance>"
            f"<WhatToMeasure>{x(ch.name)}</WhatToMeasure></{kind}CharacteristicDefinition>"
        )

    def _nominal(self, ch: Characteristic, kind: str, definition_id: int, nominal_id: int) -> str:
        body = f"<CharacteristicDefinitionId>{definition_id}</CharacteristicDefinitionId>"
        body += f"<Name>{x(ch.id)}</Name>"
        if ch.kind is Kind.ATTRIBUTE:
            body += (
                '<PassValues n="1"><StringValue>pass</StringValue></PassValues>'
                '<FailValues n="1"><StringValue>fail</StringValue></FailValues>'
            )
        elif ch.nominal is not None:
            unit_attr = "linearUnit" if kind == "UserDefinedLinear" else "angularUnit"
            body += (
                f'<TargetValue {unit_attr}="{x(self.spec.unit_of(ch))}">'
                f"{decimal_text(ch.nominal, 'nominal')}</TargetValue>"
            )
        return (
            f'<{kind}CharacteristicNominal id="{nominal_id}">{body}</{kind}CharacteristicNominal>'
        )

    def _rule(self, text: str | None) -> str:
        """The recorded decision rule as XML attributes, parsed and escaped once per rule."""
        found = self.rules.get(text)
        if found is None:
            rule = json.loads(text) if text else {}
            found = self.rules[text] = _attrs(
                [
                    ("rule", rule.get("rule")),
                    ("uncertainty", rule.get("uncertainty")),
                    ("guard", rule.get("guard")),
                ]
            )
        return found

    # -- the results --------------------------------------------------------------------------

    def results(self) -> None:
        """Every part inspection's results, in journal order, then the parts and the lot."""
        data = self.data
        self.emit(f'<Results><MeasurementResultsSet n="{len(data.inspections)}">\n')
        by_uuid = data.by_inspection
        written: set[str] = set()
        emit, part = self.emit, self._measurement_results
        for uuid, rows in self._inspection_rows():
            inspection = by_uuid.get(uuid)
            if inspection is not None and uuid not in written:
                written.add(uuid)
                emit(part(inspection, rows))
        for inspection in data.inspections:
            if inspection.uuid not in written:
                self.emit(self._measurement_results(inspection, []))
        self.emit("</MeasurementResultsSet>\n")
        self.emit(f'<ActualComponentSets n="1"><ActualComponentSet n="{len(self.by_serial)}">\n')
        for serial in sorted(self.by_serial):
            self.emit(self._component(serial, self.by_serial[serial]))
        self.emit("</ActualComponentSet></ActualComponentSets>\n")
        self.emit(self._lot_traceability() + "\n</Results>\n</QIFDocument>\n")
        self.flush()

    def _pages(self) -> Iterator[list[list[Any]]]:
        """The lot's measurement rows (lists in ``_ROW_COLUMNS`` order) page by page, in journal
        order (station, seq)."""
        source = self.data.source
        if Capability.PACKED_PAGES in source.capabilities:
            # The database builds each page itself (SQLite: one JSON text, read ahead).
            yield from source.packed_pages(self.data.lot, _ROW_COLUMNS, page=_PAGE)
            return
        for page in self.data.measurement_pages():
            yield [[row[name] for name in _ROW_COLUMNS] for row in page]

    def _inspection_rows(self) -> Iterator[tuple[str, list[list[Any]]]]:
        """(inspection UUID, its measurement rows) for every inspection with measurements, each
        as soon as the journal order has passed its last measurement record."""
        ends = self.data.source.lot_inspection_ends(self.data.lot)
        open_rows: dict[str, list[list[Any]]] = {}
        # An inspection's rows mostly follow each other: look its list and end up once per run.
        current: str | None = None
        rows: list[list[Any]] = []
        end_station: str | None = None
        end_seq: int | None = None
        for page in self._pages():
            for row in page:
                uuid = row[_INSPECTION]
                if uuid != current:
                    current = uuid
                    found = open_rows.get(uuid)
                    if found is None:
                        found = open_rows[uuid] = []
                    rows = found
                    end_station, end_seq = ends.get(uuid, (None, None))
                rows.append(row)
                if row[_SEQ] == end_seq and row[_STATION] == end_station:
                    yield uuid, open_rows.pop(uuid)
                    current = None
        # Only if the journal and the projection disagree; the chain verification says so.
        yield from open_rows.items()

    def _component(self, serial: str, inspections: list[InspectionData]) -> str:
        if len(inspections) == 1:
            latest = inspections[0]
            result = latest.current_result
            last = None if result is None else result["closed_at"]
            start = latest.opened_at
        else:
            latest = max(inspections, key=lambda i: (i.opened_at, i.station, i.seq))
            closed = [r["closed_at"] for i in inspections if (r := i.current_result) is not None]
            last = max(closed) if closed else None
            start = min(i.opened_at for i in inspections)
        component_id = self.component_ids[serial]
        if _SPECIAL.search(f"{serial}{start}{last}") is not None:
            serial, start = x(serial), x(start)
            last = None if last is None else x(last)
        end = f"<InspectionEnd>{last}</InspectionEnd>" if last is not None else ""
        return (
            f'<ActualComponent id="{component_id}">'
            f"<SerialNumber>{serial}</SerialNumber>{self._inspection_status(latest, 'Status')}"
            f"<Traceability><LotNumber>{self.lot_text}</LotNumber>"
            f"<InspectionStart>{start}</InspectionStart>"
            f"{end}</Traceability></ActualComponent>\n"
        )

    def _inspection_status(self, inspection: InspectionData, element: str) -> str:
        result = inspection.result
        found = self.statuses.get((result, element))
        if found is not None:
            return found
        if result is None:
            status = "<OtherInspectionStatus>OPEN</OtherInspectionStatus>"
        else:
            status = (
                f"<InspectionStatusEnum>{'PASS' if result == PartResult.ACCEPT else 'FAIL'}"
                "</InspectionStatusEnum>"
            )
        found = self.statuses[(result, element)] = f"<{element}>{status}</{element}>"
        return found

    def _lot_traceability(self) -> str:
        data = self.data
        organisation = self.options.organisation
        closed = [r["closed_at"] for i in data.inspections if (r := i.current_result) is not None]
        return (
            "<InspectionTraceability>"
            + (
                f"<InspectingOrganization><Name>{x(organisation)}</Name></InspectingOrganization>"
                if organisation
                else ""
            )
            + (f"<OrderNumber>{x(data.work_order)}</OrderNumber>" if data.work_order else "")
            + f"<InspectionStart>{x(data.opened_at)}</InspectionStart>"
            + (f"<InspectionEnd>{x(max(closed))}</InspectionEnd>" if closed else "")
            + "</InspectionTraceability>"
        )

    def _events(
        self, inspection: InspectionData, rows: list[list[Any]]
    ) -> tuple[list[str], dict[str, int], list[DispositionInfo]]:
        """Noted events of an inspection (corrections, dispositions) and the correction ids."""
        events: list[tuple[str, int, str]] = []  # (time, id, element)
        correction_ids: dict[str, int] = {}
        for row in rows:
            supersedes = row[_SUPERSEDES]
            if not supersedes:
                continue
            if self.next_event_id > self.last_event_id:
                # More corrections than the snapshot counted: the record is inconsistent.
                raise ExportError(
                    f"Lot {self.data.lot} has more corrections than it had when the export "
                    "started; export it again."
                )
            event_id = self.next_event_id
            self.next_event_id += 1
            correction_ids[row[_UUID]] = event_id
            text = (
                f"Correction of characteristic {row[_CHARACTERISTIC]} by {row[_INSPECTOR]}: "
                f"{row[_VALUE]} {row[_UNIT] or ''} supersedes record {supersedes}; "
                f"reason: {row[_REASON] or '-'}"
            )
            events.append((row[_AT], event_id, text))
        dispositions = [
            d
            for result in inspection.results
            for d in self.data.dispositions.get(result["uuid"], [])
        ]
        for d in dispositions:
            signers = "; ".join(
                f"{s.name} ({s.user_id}), {s.meaning}, {s.signed_at}" for s in d.signatures
            )
            text = (
                f"Disposition {d.disposition.label} of reject {d.reject} ({d.status.value}): "
                f"{d.reason}; signed by {signers}"
            )
            first = d.signatures[0].signed_at if d.signatures else ""
            events.append((first, self.disposition_event_ids[d.uuid], text))
        events.sort(key=lambda e: (e[0], e[1]))
        elements = [
            f'<NotedEvent id="{event_id}"><Description>{x(text)}</Description>'
            f"<SequenceNumber>{n}</SequenceNumber>"
            + (f"<TimeOccurred>{x(at)}</TimeOccurred>" if at else "")
            + "</NotedEvent>"
            for n, (at, event_id, text) in enumerate(events, start=1)
        ]
        return elements, correction_ids, dispositions

    def _inspection_extension(
        self, inspection: InspectionData, dispositions: list[DispositionInfo]
    ) -> list[str]:
        """The is:Inspection (with its results) and is:Disposition extension attributes."""
        results = "".join([_result_element(r) for r in inspection.results])
        current = inspection.current_result
        texts = [
            inspection.serial,
            inspection.station,
            inspection.uuid,
            inspection.inspector,
            inspection.opened_at,
            inspection.reinspection_of,
            inspection.sent_back_by,
            inspection.result,
            current["defect_code"] if current else None,
            current["note"] if current else None,
        ]
        if _SPECIAL.search("".join([t for t in texts if t])) is not None:
            texts = [None if t is None else x(t) for t in texts]
        serial, station, uuid, inspector, opened, again, sent_back, result, defect, note = texts
        element = (
            f'<is:Inspection lot="{self.lot_text}" serial="{serial}" station="{station}" '
            f'seq="{inspection.seq}" uuid="{uuid}" inspector="{inspector}" openedAt="{opened}"'
            + (f' reinspectionOf="{again}"' if again is not None else "")
            + (f' sentBackBy="{sent_back}"' if sent_back is not None else "")
            + (f' result="{result}"' if result is not None else "")
            + (f' defectCode="{defect}"' if defect is not None else "")
            + (f' note="{note}"' if note is not None else "")
            + f">{results}</is:Inspection>"
        )
        out = [_user_attribute("inspection", element)]
        for d in dispositions:
            signatures = "".join(
                "<is:Signature"
                + _attrs(
                    [
                        ("name", s.name),
                        ("userId", s.user_id),
                        ("role", s.role),
                        ("meaning", s.meaning),
                        ("signedAt", s.signed_at),
                        ("station", s.station),
                        ("record", s.record),
                    ]
                )
                + "/>"
                for s in d.signatures
            )
            disposition = (
                "<is:Disposition"
                + _attrs(
                    [
                        ("station", d.station),
                        ("seq", d.seq),
                        ("uuid", d.uuid),
                        ("reject", d.reject),
                        ("disposition", d.disposition.value),
                        ("reason", d.reason),
                        ("regradeTo", d.regrade_to),
                        ("status", d.status.value),
                        ("signersRequired", d.signers_required),
                        ("signedHash", d.signed_hash),
                    ]
                )
                + f">{signatures}</is:Disposition>"
            )
            out.append(_user_attribute("disposition", disposition))
        return out

    def _measurement_results(self, inspection: InspectionData, rows: list[list[Any]]) -> str:
        """One MeasurementResults element: a part inspection and its measurements."""
        events, correction_ids, dispositions = self._events(inspection, rows)
        current = inspection.current_result
        reject = (
            current["uuid"]
            if current is not None and current["result"] == PartResult.REJECT
            else None
        )
        opened, inspector = inspection.opened_at, inspection.inspector
        closed = current["closed_at"] if current else None
        if _SPECIAL.search(f"{opened}{inspector}{closed}") is not None:
            opened, inspector = x(opened), x(inspector)
            closed = None if closed is None else x(closed)
        traceability = (
            f"<InspectionTraceability>{self.traceability_head}"
            + (f'<NotedEvents n="{len(events)}">{"".join(events)}</NotedEvents>' if events else "")
            + f"<InspectionStart>{opened}</InspectionStart>"
            + (f"<InspectionEnd>{closed}</InspectionEnd>" if current else "")
            + f"<InspectionOperator><Name>{inspector}</Name>"
            f"<EmployeeId>{inspector}</EmployeeId></InspectionOperator>"
            + _attributes(self._inspection_extension(inspection, dispositions))
            + "</InspectionTraceability>"
        )
        component_id = self.component_ids[inspection.serial]
        measure = self._measurement
        measurements = [measure(row, component_id, correction_ids, reject) for row in rows]
        measured = (
            f'<MeasuredCharacteristics><CharacteristicMeasurements n="{len(measurements)}">\n'
            + "".join(measurements)
            + "</CharacteristicMeasurements></MeasuredCharacteristics>"
            if measurements
            else ""
        )
        return (
            f'<MeasurementResults id="{self.result_ids[inspection.uuid]}">{traceability}\n'
            f"{measured}{self._inspection_status(inspection, 'InspectionStatus')}"
            f'<ActualComponentIds n="1"><Id>{self.component_ids[inspection.serial]}</Id>'
            "</ActualComponentIds></MeasurementResults>\n"
        )

    def _measurement(
        self,
        row: list[Any],
        component_id: int,
        correction_ids: dict[str, int],
        reject: str | None,
    ) -> str:
        """One CharacteristicMeasurement element (this runs once per record: kept lean)."""
        (
            station,
            seq,
            uuid,
            hash_,
            _,
            characteristic,
            value,
            unit,
            in_spec,
            spec_unit,
            verdict,
            zone,
            deviation,
            limit,
            exceeds,
            decision_rule,
            source,
            manual,
            asset,
            gauge_serial,
            certificate,
            due,
            raw,
            inspector,
            at,
            supersedes,
            reason,
        ) = row
        facts = self.measured_facts.get(characteristic)
        if facts is None:
            raise ExportError(
                f"A measurement of lot {self.data.lot} is of characteristic "
                f"{characteristic!r}, which {self.spec.part_number} revision "
                f"{self.spec.revision} does not have."
            )
        measurement_id = self.next_measurement_id
        if measurement_id > self.last_measurement_id:
            raise ExportError(
                f"Lot {self.data.lot} has more measurements than it had when the export "
                "started; export it again."
            )
        self.next_measurement_id = measurement_id + 1
        superseded_by = self.superseded_by.get(uuid)
        if superseded_by:
            status = "<OtherCharacteristicStatus>SUPERSEDED</OtherCharacteristicStatus>"
        else:
            status = _STATUS_ELEMENTS.get(verdict)  # type: ignore[assignment]
            if status is None:
                raise ExportError(
                    f"Measurement {station}:{seq} of lot {self.data.lot} has the verdict "
                    f"{verdict!r}, which is neither pass nor fail."
                )
        if raw is not None:
            raw = raw.encode("unicode_escape").decode("ascii")
        device = (
            self.devices.get((asset, gauge_serial, certificate, due)) if asset is not None else None
        )
        kind, item_id, value_unit, limits_unit, ch = facts
        if spec_unit is not None and spec_unit != limits_unit:
            raise ExportError(
                f"Measurement {station}:{seq} of lot {self.data.lot} gives its limits in "
                f"{spec_unit!r}, but characteristic {ch.id} of the spec is in "
                f"{limits_unit}; the record is inconsistent."
            )
        if value_unit is None:
            number = None
        else:
            number = in_spec if in_spec is not None else value
            if _PLAIN_DECIMAL.fullmatch(number) is None:
                number = decimal_text(number, "value")
        event = correction_ids.get(uuid) if correction_ids else None
        nonconformance = (
            f"<NonConformanceDesignator>{x(reject)}</NonConformanceDesignator>"
            if reject is not None and verdict == Verdict.FAIL and not superseded_by
            else ""
        )
        # One look for characters that need escaping; nearly every record has none (an absent
        # value reads "None" here, which has none either).
        probe = (
            f"{station}{uuid}{hash_}{inspector}{value}{unit}{verdict}{zone}{deviation}{limit}"
            f"{exceeds}{source}{manual}{raw}{supersedes}{reason}{at}"
        )
        if _SPECIAL.search(probe) is not None:
            texts = [
                station,
                uuid,
                hash_,
                inspector,
                value,
                unit,
                verdict,
                zone,
                deviation,
                limit,
                exceeds,
                source,
                manual,
                raw,
                supersedes,
                reason,
                at,
            ]
            escaped = [None if t is None else x(t) for t in texts]
            (station, uuid, hash_, inspector, value, unit, verdict, zone, deviation) = escaped[:9]
            (limit, exceeds, source, manual, raw, supersedes, reason, at) = escaped[9:]
        value_element = (
            f"<Value>{value}</Value>"
            if value_unit is None
            else f"<Value{value_unit}>{number}</Value>"
        )
        # The optional pieces, then the element in one go.
        unit = f' unit="{unit}"' if unit is not None else ""
        zone = f' zone="{zone}"' if zone is not None else ""
        deviation = f' deviation="{deviation}"' if deviation is not None else ""
        limit = f' limit="{limit}"' if limit is not None else ""
        exceeds = f' exceedsBy="{exceeds}"' if exceeds is not None else ""
        manual = f' manualReason="{manual}"' if manual is not None else ""
        raw = f' raw="{raw}"' if raw is not None else ""
        state = (
            f' status="superseded" supersededBy="{x(superseded_by)}"'
            if superseded_by
            else ' status="current"'
        )
        supersedes = f' supersedes="{supersedes}"' if supersedes is not None else ""
        reason = f' reason="{reason}"' if reason is not None else ""
        devices = (
            f'<MeasurementDeviceIds n="1"><Id>{device.id}</Id></MeasurementDeviceIds>'
            if device is not None
            else ""
        )
        rule = self.rules.get(decision_rule)
        if rule is None:
            rule = self._rule(decision_rule)
        events = f'<NotedEventIds n="1"><Id>{event}</Id></NotedEventIds>' if event else ""
        return (
            f'<{kind}CharacteristicMeasurement id="{measurement_id}"><Attributes n="1">'
            f'<AttributeUser name="{EXTENSION_NAME}" nameUserAttribute="measurement record">'
            f'<UserDataXML><is:Measurement station="{station}" seq="{seq}" '
            f'uuid="{uuid}" hash="{hash_}" inspector="{inspector}" value="{value}"{unit} '
            f'verdict="{verdict}"{zone}{deviation}{limit}{exceeds}'
            f'{rule} source="{source}"{manual}{raw}{state}'
            f"{supersedes}{reason}/></UserDataXML></AttributeUser></Attributes>"
            f"<Status>{status}</Status><CharacteristicItemId>{item_id}</CharacteristicItemId>"
            f"<TimeStamp>{at}</TimeStamp><ActualComponentId>{component_id}</ActualComponentId>"
            f"{devices}{events}{nonconformance}{value_element}"
            f"</{kind}CharacteristicMeasurement>\n"
        )


def write_qif(data: LotData, out: HashingWriter, options: ExportOptions) -> None:
    """Write the lot as one QIF 3.0 results document (UTF-8) to ``out``."""
    writer = _Writer(data, out, options)
    writer.plan()
    writer.head()
    writer.results()


register_format("qif", write_qif, order=50)
