"""Lot traceability exports, read through the read model (``inspect_station.records``).

- ``model``: ``LotData`` and ``load_lot`` (everything about a lot), ``ExportOptions``;
- ``formats``: the registry of export formats (``register_format``, ``writer_for``, ``names``)
  and ``HashingWriter``;
- ``lot``: ``export_lot`` (a file and its SHA-256 manifest), ``write_export``,
  ``manifest_text``, ``FORMATS``, and the model's names a caller needs;
- ``csvfile``, ``jsonfile`` (with ``lot-export.schema.json``), ``aqdef`` (.dfq),
  ``certificate`` (HTML, with ``certificate.html`` and ``appendix``), ``qif`` (QIF 3.0
  results): one module per format, each registering itself; a new format is a new module;
- ``fai``: the AS9102 Form 3 of one part (HTML with ``fai.html``, CSV, .xlsx);
- ``trace``: every result taken with a gauge asset.

Import the submodules; this package imports nothing itself.
"""
