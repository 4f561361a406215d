"""Alembic migrations, shipped inside the package so that no alembic.ini is needed to upgrade."""
