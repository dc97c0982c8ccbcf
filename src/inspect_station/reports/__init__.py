"""Reports over the record, read through ``records`` (a local or a central source).

- ``spc``: the capability report of a part or a lot (``spc_report``), its JSON and table;
- ``spc_html``: the same report as a printable HTML page with SVG control charts;
- ``spc-report.schema.json``: the JSON Schema of the report's JSON document.

This package sits beside ``export`` and ``review``: it imports records, store and the pure
``spc`` core, never the UI or the CLI.
"""
