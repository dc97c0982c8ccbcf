"""First-article declarations (AS9102): a part serial, or a whole lot, declared a first article.

A declaration is a journal record of kind ``first_article`` naming the lot, the spec revision
the lot is of, the scope (``part`` with its serial, or ``lot``), an optional FAIR number and
reason, and who declared it. It is recorded once: declaring again what is already declared
records nothing and returns the declaration in force. ``export fai`` reads it to fill the Form 1
header fields (FAIR number, "first article") and refuses a part nobody declared.
"""

from __future__ import annotations

from inspect_station.errors import InspectStationError
from inspect_station.spec.model import PartSpec
from inspect_station.store import LocalStore, inspections
from inspect_station.store.first_articles import LOT, PART, FirstArticle, declarations
from inspect_station.text import check_id, check_line

__all__ = ["LOT", "PART", "FirstArticle", "FirstArticleError", "declare_first_article"]


class FirstArticleError(InspectStationError):
    """A first-article declaration cannot be recorded as asked."""


def declare_first_article(
    store: LocalStore,
    spec: PartSpec,
    lot: str,
    serial: str | None,
    declared_by: str,
    *,
    fair_number: str | None = None,
    reason: str | None = None,
) -> tuple[FirstArticle, bool]:
    """Declare part ``serial`` of ``lot`` (or the whole lot when serial is None) a first article.

    The lot must be open for ``spec``. Returns the declaration in force and whether it was
    recorded now (False: it was declared before, nothing was recorded).
    """
    lot = check_id(lot, "lot")
    declared_by = check_id(declared_by, "declared by")
    if serial is not None:
        serial = check_id(serial, "serial")
    if fair_number is not None:
        fair_number = check_id(fair_number, "FAIR number")
    if reason is not None:
        reason = check_line(reason, "reason of the first-article declaration") or None
    with store.transaction() as tx:
        row = inspections.lot_row(tx, lot)
        if row is None:
            raise FirstArticleError(f"There is no lot {lot} to declare a first article in.")
        if (row["part_number"], row["revision"]) != (spec.part_number, spec.revision):
            raise FirstArticleError(
                f"Lot {lot} is a lot of {row['part_number']} revision {row['revision']}, "
                f"not {spec.part_number} revision {spec.revision}."
            )
        existing = declarations(tx, lot, serial)
        if existing:
            return FirstArticle.from_row(existing[0]), False
        record = tx.append(
            "first_article",
            {
                **spec.identity(),
                "lot": lot,
                "serial": serial,
                "scope": PART if serial is not None else LOT,
                "fair_number": fair_number,
                "declared_by": declared_by,
                "reason": reason,
            },
        )
    return (
        FirstArticle(
            record["station"],
            record["seq"],
            lot,
            serial,
            PART if serial is not None else LOT,
            fair_number,
            declared_by,
            record["ts"],
            reason,
        ),
        True,
    )
