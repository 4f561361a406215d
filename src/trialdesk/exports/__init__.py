"""Exports of a trial's data for monitors, statisticians and regulators: one CSV per entity with
a data dictionary, CDISC ODM 1.3.2 XML with the audit trail and signatures, and SDTM-style
domains. Everything is read from the database; nothing is typed by hand."""
