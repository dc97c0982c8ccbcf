"""Reject review: the queue of rejects awaiting disposition, their detail, signed dispositions.

A *reject* is the current result record (kind ``inspection_closed``, result ``reject``) of a
part inspection. A supervisor disposes of it (ISO 9000 §3.12: use as is, rework, repair,
regrade, scrap, return to supplier) with a reason, and signs it electronically (21 CFR Part 11;
see ``signing``). Dispositions that need a second signer (by default use-as-is and repair) are
complete only when another supervisor adds a ``disposition_signature`` record bound to the
first record's hash; dispositions signed apart at two terminals conflict until a supervisor
signs which one stands (``conflicts``).

The review reads rejects from a record source (the station's local store, or a central store
across all stations) and writes every signature into the signer's own local store, under that
store's station id, never into another station's chain.

- ``model``: where a reject stands, the review's errors, the signature policy, the filter;
- ``signing``: the Part 11 signature (who, meaning, when), what a signature binds, the signer's
  authentication -- reusable by any signed act;
- ``views``: what the review shows (queue lines, a reject's detail, dispositions, resolutions);
- ``queries``: reading rejects and dispositions through a record source (export reads here);
- ``conflicts``: conflicting dispositions and their signed resolution;
- ``service``: ``Review``, the queue, detail, signing, co-signing and re-inspection.

Import the submodules; this package imports nothing itself, so an exporter can read
``queries`` without loading the signing service.
"""
