"""Lot traceability exports and the read side they share with the rejects review.

- ``source``: ``RecordSource`` (a snapshot of a local or central store), ``LocalSource``,
  ``CentralSource``;
- ``lot``: ``load_lot`` (everything about a lot) and ``export_lot`` (a file and its SHA-256
  manifest), ``FORMATS``;
- ``csvfile``, ``jsonfile`` (with ``lot-export.schema.json``), ``aqdef`` (.dfq),
  ``certificate`` (HTML, with ``certificate.html``), ``qif`` (QIF 3.0 results): one module per
  format;
- ``fai``: the AS9102 Form 3 of one part (HTML with ``fai.html``, CSV, .xlsx);
- ``trace``: every result taken with a gauge asset.

Import the submodules; this package imports nothing itself, so the review core can use
``source`` without loading the exporters.
"""
