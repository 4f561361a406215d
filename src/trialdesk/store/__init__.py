"""Persistence: SQLAlchemy 2 models, packaged Alembic migrations, and the append-only audit log.

A SQLite file under ``$TRIALDESK_HOME`` by default; PostgreSQL when ``TRIALDESK_DATABASE_URL``
(or an explicit URL) says so. Higher layers use :func:`trialdesk.store.session.unit_of_work`.
"""
