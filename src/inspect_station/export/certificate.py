"""Lot export as a printable HTML certificate of conformance (or inspection report).

One self-contained HTML file (no scripts, no external resources; the page template with its
screen and print styles is ``certificate.html`` in this package). It is titled *Certificate of
Conformance* only when the ISO 2859-1 lot decision is ACCEPT, every chain the records come from
verified, and every nonconforming part found has a complete, signed disposition; otherwise it
is a *Lot Inspection Report* that says why it is not a certificate. It shows the part and spec
revision with its content hash, the lot and its quantities, the sampling plan and decision, a
summary per characteristic, every nonconforming part with its disposition, every signature
(printed name, user id, meaning, UTC time), and the result of verifying the chains; an appendix
(``appendix.py``) then gives the record of each part, measurement by measurement.
"""

from __future__ import annotations

import html
import json
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from importlib.resources import files
from string import Template
from typing import Any

from inspect_station import __version__
from inspect_station.export.appendix import render_appendix
from inspect_station.export.capability import capability_html, lot_capability
from inspect_station.export.formats import HashingWriter, register_format
from inspect_station.export.model import ExportOptions, LotData
from inspect_station.records import FIELD
from inspect_station.spec.model import Kind
from inspect_station.vocabulary import Verdict

CERTIFICATE_TITLE = "Certificate of Conformance"
"""Title when the lot is accepted, verified and every reject is disposed."""
REPORT_TITLE = "Lot Inspection Report"
"""Title otherwise."""

_CHAR = FIELD["characteristic"]
_IN_SPEC = FIELD["value_in_spec_unit"]
_VERDICT = FIELD["verdict"]
_STATUS = FIELD["status"]
_INSPECTION = FIELD["inspection"]


def _e(value: Any) -> str:
    """Escaped text of a value ('—' for none)."""
    if value is None or value == "":
        return "—"
    return html.escape(str(value), quote=True)


def _table(headers: list[str], rows: list[list[str]], numeric: set[int] | None = None) -> str:
    """An HTML table from already escaped cells."""
    numeric = numeric or set()
    head = "".join(
        f'<th class="num">{h}</th>' if i in numeric else f"<th>{h}</th>"
        for i, h in enumerate(headers)
    )
    body = "".join(
        "<tr>"
        + "".join(
            f'<td class="num">{c}</td>' if i in numeric else f"<td>{c}</td>"
            for i, c in enumerate(row)
        )
        + "</tr>"
        for row in rows
    )
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _facts(rows: list[tuple[str, str]]) -> str:
    """A two-column table of label and (escaped) value."""
    body = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    return f'<table class="facts"><tbody>{body}</tbody></table>'


@dataclass
class _Stats:
    """Running summary of one characteristic's values in force (first inspections)."""

    count: int = 0
    fails: int = 0
    low: Decimal | None = None
    high: Decimal | None = None
    low_text: str = ""
    high_text: str = ""
    serials: set[str] = field(default_factory=set)

    def add(self, value: str | None, verdict: str) -> None:
        self.count += 1
        if verdict != Verdict.PASS:
            self.fails += 1
        if value is None:
            return
        try:
            number = Decimal(value)
        except InvalidOperation:
            return
        if self.low is None or number < self.low:
            self.low, self.low_text = number, value
        if self.high is None or number > self.high:
            self.high, self.high_text = number, value


def _statistics(data: LotData) -> dict[str, _Stats]:
    """Per characteristic: values in force of the parts' first inspections."""
    originals = {i.uuid for i in data.inspections if i.reinspection_of is None}
    stats = {ch.id: _Stats() for ch in data.spec.characteristic}
    for page in data.measurement_rows():
        for row in page:
            if row[_STATUS] != "current" or row[_INSPECTION] not in originals:
                continue
            entry = stats.get(row[_CHAR])
            if entry is not None:
                entry.add(row[_IN_SPEC], row[_VERDICT])
    return stats


def is_certificate(data: LotData) -> tuple[bool, list[str]]:
    """Whether the document may be titled a certificate, and if not, why (sentences)."""
    reasons = []
    if data.decision.decision != "ACCEPT":
        reasons.append(
            {
                "REJECT": "The lot is rejected under its sampling plan.",
                "PENDING": "The lot's sample is not complete, so the lot is not decided yet.",
                "NO PLAN": "The lot has no sampling plan (its size was not recorded).",
            }[data.decision.decision]
        )
    if data.verified is False:
        reasons.append("A journal the records come from did not verify.")
    elif data.verified is None:
        reasons.append("The journals the records come from were not verified.")
    if not data.spec_hash_verified:
        reasons.append("The recorded spec content does not match its content hash.")
    open_rejects = [
        i.serial for i, _ in data.rejects() if not (d := data.disposition_of(i)) or not d.complete
    ]
    if open_rejects:
        shown = ", ".join(open_rejects[:5]) + (" …" if len(open_rejects) > 5 else "")
        reasons.append(
            f"{len(open_rejects)} nonconforming part(s) still await a signed disposition ({shown})."
        )
    return not reasons, reasons


def render(data: LotData, manifest_name: str = "") -> str:
    """The certificate (or report) as one HTML document."""
    spec = data.spec
    decision = data.decision
    plan = decision.plan
    certificate, reasons = is_certificate(data)
    if certificate:
        verdict_class, verdict_text = "ok", "LOT ACCEPTED"
    elif decision.decision == "REJECT":
        verdict_class, verdict_text = "bad", "LOT REJECTED"
    else:
        verdict_class, verdict_text = "warn", "NOT CERTIFIED"
    alerts = ""
    if data.verified is False:
        alerts = (
            '<div class="alert" id="verification-alert">Record verification FAILED: this '
            "document cannot be relied on. See “Record verification” below.</div>"
        )
    if plan:
        sampling_text = (
            f"ISO 2859-1 single sampling, normal inspection, level {_e(plan['level'])}, "
            f"AQL {_e(plan['aql'])}: code letter {_e(plan['code_letter'])}, sample size "
            f"{plan['sample_size']}, Ac {plan['accept']} / Re {plan['reject']}"
            + (" (100 % inspection)" if plan["hundred_percent"] else "")
        )
    else:
        sampling_text = "none (lot size not recorded)"
    rejects = data.rejects()
    if certificate:
        statement = (
            f"Lot {_e(data.lot)} of {_e(spec.part_number)} revision {_e(spec.revision)} was "
            f"inspected against the specification identified below; {decision.in_sample} "
            f"part(s) of the sample were inspected with {decision.nonconforming_in_sample} "
            f"nonconforming, within the acceptance number, and the lot is accepted. "
            f"{len(rejects)} nonconforming part(s) found were segregated and disposed as "
            "signed below."
        )
    else:
        statement = "This document is not a certificate of conformance: " + " ".join(
            _e(r) for r in reasons
        )
    spec_table = _facts(
        [
            ("Part number", _e(spec.part_number)),
            ("Description", _e(spec.description)),
            ("Revision", _e(spec.revision)),
            ("Spec status", _e(spec.status.value)),
            ("Spec content hash (SHA-256)", f'<span class="hash">{_e(data.spec_hash)}</span>'),
            (
                "Spec content hash verified",
                "yes" if data.spec_hash_verified else '<span class="fail">NO</span>',
            ),
        ]
    )
    lot_table = _facts(
        [
            ("Lot", _e(data.lot)),
            ("Work order", _e(data.work_order)),
            ("Lot size", _e(data.lot_size)),
            ("Lot opened (UTC)", _e(data.opened_at)),
            ("Sampling plan", sampling_text),
            ("Parts inspected", str(decision.parts)),
            ("Parts closed", str(decision.closed)),
            ("Parts rejected (first inspection)", str(decision.rejected)),
            ("Parts accepted (first inspection)", str(decision.closed - decision.rejected)),
            ("Parts in the sample", str(decision.in_sample)),
            ("Nonconforming in the sample", str(decision.nonconforming_in_sample)),
            ("Re-inspections", str(sum(1 for i in data.inspections if i.reinspection_of))),
            ("Measurement records", str(data.measurement_count)),
            ("Lot decision", f"<strong>{_e(decision.decision)}</strong>"),
        ]
    )
    stats = _statistics(data)
    char_rows = []
    for ch in spec.characteristic:
        s = stats[ch.id]
        lower, upper = ch.limits
        if ch.kind is Kind.ATTRIBUTE:
            requirement = _e(ch.method or "attribute (pass / fail)")
        else:
            if lower is not None and upper is not None:
                limits = f"{_e(lower)} … {_e(upper)}"
            elif upper is not None:
                limits = f"≤ {_e(upper)}"
            else:
                limits = f"≥ {_e(lower)}"
            requirement = f"{limits} {_e(spec.unit_of(ch))}"
            if ch.nominal is not None:
                requirement += f" (nominal {_e(ch.nominal)})"
            if ch.decision.guard_width:
                requirement += f"; {_e(ch.decision.describe())}"
        fails = f'<span class="fail">{s.fails}</span>' if s.fails else "0"
        char_rows.append(
            [
                _e(ch.id),
                _e(ch.name),
                requirement,
                str(s.count),
                _e(s.low_text) if s.count and ch.kind is not Kind.ATTRIBUTE else "—",
                _e(s.high_text) if s.count and ch.kind is not Kind.ATTRIBUTE else "—",
                fails,
            ]
        )
    characteristics_table = _table(
        ["#", "Characteristic", "Requirement", "n", "Min", "Max", "Nonconforming"],
        char_rows,
        numeric={3, 4, 5, 6},
    )
    reject_rows = []
    signature_rows = []
    for inspection, result in rejects:
        d = data.disposition_of(inspection)
        failed = ", ".join(json.loads(result["failed"] or "[]"))
        later = [i for i in data.inspections if i.reinspection_of == result["uuid"]]
        reinspected = "; ".join(f"{_e(i.result or 'open')} ({_e(i.opened_at[:10])})" for i in later)
        standing = data.standing(result["uuid"])
        if standing.conflict:
            disposition = '<span class="fail">conflicting dispositions</span>: ' + "; ".join(
                _e(c.disposition.label) for c in standing.dispositions
            )
        elif d is None:
            disposition = '<span class="fail">awaiting disposition</span>'
        else:
            disposition = _e(d.disposition.label)
            if d.regrade_to:
                disposition += f" to {_e(d.regrade_to)}"
            if not d.complete:
                disposition += ' <span class="fail">(awaiting second signature)</span>'
            for n, sig in enumerate(d.signatures, start=1):
                signature_rows.append(
                    [
                        _e(inspection.serial),
                        _e(sig.name),
                        _e(sig.user_id),
                        _e(sig.meaning),
                        _e(sig.signed_at),
                        f"{_e(sig.station)} <code>{_e(sig.record[:8])}</code>"
                        + (" (2nd)" if n > 1 else ""),
                    ]
                )
        reject_rows.append(
            [
                _e(inspection.serial),
                _e(failed),
                _e(result["defect_code"]),
                _e(result["note"]),
                disposition,
                _e(d.reason) if d else "—",
                reinspected or "—",
            ]
        )
    rejects_table = (
        _table(
            ["Serial", "Failed", "Defect", "Note", "Disposition", "Reason", "Re-inspection"],
            reject_rows,
        )
        if reject_rows
        else "<p>No nonconforming parts were found in this lot.</p>"
    )
    signatures_table = (
        _table(["Part", "Signed by", "User id", "Meaning", "Time (UTC)", "Record"], signature_rows)
        if signature_rows
        else "<p>No signatures: no disposition was signed for this lot.</p>"
    )
    checks = data.verification or []
    verification_rows = [
        [
            _e(c.station),
            '<span class="pass">OK</span>' if c.ok else '<span class="fail">BROKEN</span>',
            str(c.records),
            str(c.head_seq),
            f'<span class="hash">{_e(c.head_hash)}</span>',
            _e(c.reason if not c.ok else c.note),
        ]
        for c in checks
    ]
    verification_table = (
        _table(
            ["Station", "Chain", "Records", "Head seq", "Head hash", "Problem"],
            verification_rows,
            numeric={2, 3},
        )
        if checks
        else '<p class="fail">The chains were not verified for this document.</p>'
        + _table(
            ["Station", "Head seq", "Head hash"],
            [[_e(st), str(seq), f'<span class="hash">{_e(h)}</span>'] for st, seq, h in data.heads],
            numeric={1},
        )
    )
    template = Template(
        files("inspect_station.export").joinpath("certificate.html").read_text(encoding="utf-8")
    )
    return template.substitute(
        title=CERTIFICATE_TITLE if certificate else REPORT_TITLE,
        generator=_e(f"inspect-station {__version__}"),
        part_number=_e(spec.part_number),
        revision=_e(spec.revision),
        description=_e(spec.description),
        lot=_e(data.lot),
        verdict_class=verdict_class,
        verdict_text=verdict_text,
        alerts=alerts,
        statement=statement,
        spec_table=spec_table,
        lot_table=lot_table,
        characteristics_table=characteristics_table,
        capability_table=capability_html(lot_capability(data)),
        rejects_table=rejects_table,
        signatures_table=signatures_table,
        verification_table=verification_table,
        generated_at=_e(data.generated_at),
        source_description=_e(data.source.description),
        manifest_name=_e(manifest_name or "the .sha256 file"),
        appendix=render_appendix(data),
    )


def write_html(data: LotData, out: HashingWriter, options: ExportOptions) -> None:
    """Write the certificate of the lot as an HTML file to ``out``."""
    manifest = f"{options.file_name}.sha256" if options.file_name else ""
    out.write(render(data, manifest).encode("utf-8"))


register_format("html", write_html, order=40)
