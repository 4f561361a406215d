"""Dose-finding designs: pure numpy/scipy, no I/O. See `base` for the one interface they share.

- ``base``: LevelState, TrialState, Decision and the Design protocol (levels 0-based in code,
  1-based in every text a person reads).
- ``phases``: admissibility -> next dose -> stopping -> final selection, and the stop rules.
- ``three_plus_three``, ``boin`` (BOIN, TITE-BOIN), ``mtpi`` (mTPI-2, keyboard, i3+3),
  ``crm`` (empiric and logistic CRM, ``getprior``); ``interval`` holds what BOIN-like share.
- ``registry``: ``make_design(name, ...)`` and ``design_from_protocol(protocol)``.
- ``outcomes``: trial histories as outcome strings ("1NNN 2NTN").
- ``selection``: isotonic MTD selection; ``decision_table``; ``pathways`` (dose-transition
  pathways with exact probabilities).
"""
