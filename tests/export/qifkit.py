"""QIF 3.0 in the tests: the official schema (built once, kept between runs), and reading a results
document back."""

from __future__ import annotations

import fcntl
import hashlib
import os
import pickle
import re
import sys
import tempfile
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING
from xml.etree import ElementTree as ET

if TYPE_CHECKING:  # imported where used: every test worker collects this module
    import xmlschema

SCHEMA_DIR = Path(__file__).resolve().parent.parent / "data" / "qif3"
"""The QIF 3.0 schemas as the QIF community publishes them (headers kept)."""
QIF = "http://qifstandards.org/xsd/qif3"
EXT = "urn:inspect-station:qif:1"
NS = {"q": QIF, "is": EXT}


def _local_signature(uri: str) -> str:
    """The W3C XML-signature schema QIF imports, mapped to xmlschema's own copy."""
    import xmlschema

    if uri.endswith("xmldsig-core-schema.xsd"):
        signature = Path(xmlschema.__file__).parent / "schemas" / "DSIG"
        return (signature / "xmldsig-core-schema.xsd").as_uri()
    return uri


def build_schema() -> xmlschema.XMLSchema:
    """QIFDocument.xsd with the W3C XML-signature import mapped to xmlschema's own copy.

    xmlschema works out once, from the schema, which element declarations each identity
    constraint's selector can reach, and leaves out the members of substitution groups. QIF's
    keys select with wildcards over substitution groups (``t:MeasurementDevices/t:*`` reaches a
    ``ManualMeasurementDevice`` through the head ``MeasurementDevice``), so without the members
    those keys would collect nothing: every valid reference would be reported as dangling, and
    duplicated or dangling ids in those places would go unnoticed. Each member is added to the
    constraints its head is selected by, which is what the XSD rules say (a selector step
    matches element instances, whatever declaration validated them). Each member also gets its
    own field selectors, made once, as the heads have them (made per element, they would be
    rebuilt for every element validated, which is several times slower).
    """
    import xmlschema
    from xmlschema.validators.identities import FieldValueSelector

    schema = xmlschema.XMLSchema(
        str(SCHEMA_DIR / "QIFApplications" / "QIFDocument.xsd"), uri_mapper=_local_signature
    )
    groups = schema.maps.substitution_groups
    for identity in schema.maps.identities.values():
        pending = list(identity.elements)
        seen = set(pending)
        while pending:
            head = pending.pop()
            for member in groups.get(head.name, ()):
                if member not in seen:
                    seen.add(member)
                    member.selected_by.add(identity)
                    identity.elements[member] = [
                        FieldValueSelector(f, member) for f in identity.fields
                    ]
                    pending.append(member)
    return schema


def cached_schema() -> xmlschema.XMLSchema:
    """``build_schema()``, built once per machine and kept for later runs and workers.

    Building takes about 14 s of CPU; loading the built schema back, about 1.5 s. The copy is
    keyed by everything the build depends on (the schema files, this module's source, the
    xmlschema and Python versions), so a change to any of them builds afresh. It lives in a
    folder of this user's own in the temporary directory (mode 0700, checked: a pickle is only
    ever loaded from there), and a lock makes a second worker wait for the first one's build
    instead of building it too.
    """
    import xmlschema

    key = hashlib.sha256()
    for path in sorted(SCHEMA_DIR.rglob("*")):
        if path.is_file():
            key.update(str(path.relative_to(SCHEMA_DIR)).encode() + b"\0" + path.read_bytes())
    key.update(Path(__file__).read_bytes())
    key.update(f"{xmlschema.__version__} {sys.version}".encode())
    folder = Path(tempfile.gettempdir()) / f"inspect-station-tests-{os.getuid()}"
    folder.mkdir(mode=0o700, exist_ok=True)
    info = folder.lstat()
    if info.st_uid != os.getuid() or info.st_mode & 0o077 or not folder.is_dir():
        return build_schema()  # not ours alone: never load a pickle from there
    cached = folder / f"qif3-schema-{key.hexdigest()[:32]}.pickle"
    with open(folder / "qif3-schema.lock", "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        if cached.exists():
            return pickle.loads(cached.read_bytes())
        schema = build_schema()
        for old in folder.glob("qif3-schema-*.pickle"):
            old.unlink()
        partial = cached.with_suffix(".partial")
        partial.write_bytes(pickle.dumps(schema, protocol=pickle.HIGHEST_PROTOCOL))
        partial.replace(cached)
        return schema


def schema_errors(schema: xmlschema.XMLSchema, document: str | bytes) -> list[str]:
    """Why the document is not valid QIF 3.0 (empty if it is), plus the rules XSD cannot say:
    every ``n`` counts its children, ids are unique and ``idMax`` is the largest."""
    text = document.decode("utf-8") if isinstance(document, bytes) else document
    errors = [e.reason or str(e) for e in schema.iter_errors(text)]
    root = ET.fromstring(text)
    for element in root.iter():
        n = element.get("n")
        if n is not None and element.tag.startswith(f"{{{QIF}}}") and int(n) != len(element):
            errors.append(f"{element.tag} n={n} but it has {len(element)} children")
    ids = [
        int(e.get("id"))
        for e in root.iter()
        if e.get("id") is not None and e.tag.startswith(f"{{{QIF}}}")
    ]
    duplicated = [i for i, count in Counter(ids).items() if count > 1]
    if duplicated:
        errors.append(f"ids used twice: {duplicated}")
    if ids and int(root.get("idMax", "0")) != max(ids):
        errors.append(f"idMax {root.get('idMax')} is not the largest id {max(ids)}")
    return errors


def local(tag: str) -> str:
    """An element's name without its namespace."""
    return tag.rsplit("}", 1)[-1]


@dataclass
class Measured:
    """One CharacteristicMeasurement read back."""

    type: str
    """The QIF element name (UserDefinedLinearCharacteristicMeasurement, ...)."""
    status: str
    """PASS, FAIL or SUPERSEDED."""
    value: str
    """Text of Value."""
    value_unit: str | None
    """linearUnit / angularUnit of Value."""
    balloon: str
    """Name of the characteristic item it points to."""
    serial: str
    """SerialNumber of the actual component it points to."""
    time: str
    """TimeStamp."""
    devices: list[dict[str, str]]
    """The gauge extension of each measurement device it names."""
    nonconformance: str | None
    """NonConformanceDesignator."""
    events: list[str]
    """Descriptions of the noted events it names."""
    record: dict[str, str]
    """The is:Measurement extension's attributes."""


@dataclass
class ReadBack:
    """What a QIF results document says, indexed the way a test needs it."""

    root: ET.Element
    export: ET.Element
    items: dict[str, ET.Element] = field(default_factory=dict)
    """Characteristic item id -> element."""
    definitions: dict[str, ET.Element] = field(default_factory=dict)
    """Balloon id -> definition element."""
    nominals: dict[str, ET.Element] = field(default_factory=dict)
    """Balloon id -> nominal element."""
    measurements: dict[str, Measured] = field(default_factory=dict)
    """Record UUID -> measurement."""
    results: list[ET.Element] = field(default_factory=list)
    """MeasurementResults elements, in document order."""
    components: dict[str, ET.Element] = field(default_factory=dict)
    """Serial -> ActualComponent."""


def read_qif(text: str | bytes) -> ReadBack:
    """Parse a QIF results document made by inspect-station."""
    root = ET.fromstring(text)
    export = root.find("q:Attributes/q:AttributeUser/q:UserDataXML/is:Export", NS)
    assert export is not None, "the document names what it was made from"
    out = ReadBack(root, export)
    by_id = {e.get("id"): e for e in root.iter() if e.get("id") is not None}
    characteristics = root.find("q:Characteristics", NS)
    for item in characteristics.find("q:CharacteristicItems", NS):
        out.items[item.get("id")] = item
        balloon = item.findtext("q:Name", namespaces=NS)
        nominal = by_id[item.findtext("q:CharacteristicNominalId", namespaces=NS)]
        out.nominals[balloon] = nominal
        out.definitions[balloon] = by_id[nominal.findtext("q:CharacteristicDefinitionId", None, NS)]
    for component in root.iterfind(".//q:ActualComponent", NS):
        out.components[component.findtext("q:SerialNumber", namespaces=NS)] = component
    for results in root.iterfind("q:Results/q:MeasurementResultsSet/q:MeasurementResults", NS):
        out.results.append(results)
        for m in results.iterfind("q:MeasuredCharacteristics/q:CharacteristicMeasurements/*", NS):
            ext = m.find("q:Attributes/q:AttributeUser/q:UserDataXML/is:Measurement", NS)
            status = m.find("q:Status/*", NS)
            value = m.find("q:Value", NS)
            item = out.items[m.findtext("q:CharacteristicItemId", namespaces=NS)]
            component = by_id[m.findtext("q:ActualComponentId", namespaces=NS)]
            devices = [
                by_id[i.text].find(".//is:Gauge", NS).attrib
                for i in m.iterfind("q:MeasurementDeviceIds/q:Id", NS)
            ]
            events = [
                by_id[i.text].findtext("q:Description", namespaces=NS)
                for i in m.iterfind("q:NotedEventIds/q:Id", NS)
            ]
            out.measurements[ext.get("uuid")] = Measured(
                type=local(m.tag),
                status=status.text,
                value=value.text,
                value_unit=value.get("linearUnit") or value.get("angularUnit"),
                balloon=item.findtext("q:Name", namespaces=NS),
                serial=component.findtext("q:SerialNumber", namespaces=NS),
                time=m.findtext("q:TimeStamp", namespaces=NS),
                devices=[dict(d) for d in devices],
                nonconformance=m.findtext("q:NonConformanceDesignator", namespaces=NS),
                events=events,
                record=dict(ext.attrib),
            )
    return out


def escaped_raw(raw: str | None) -> str | None:
    """A raw frame as the exports write it (backslash escapes)."""
    return None if raw is None else raw.encode("unicode_escape").decode("ascii")


_CONTROL = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f]")


def as_in_xml(text: str) -> str:
    """Recorded text as the QIF carries it: control characters XML cannot hold as \\xNN."""
    return _CONTROL.sub(lambda m: f"\\x{ord(m.group()):02x}", text)
