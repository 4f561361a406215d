"""Looking up a value for each row's text: the few distinct spellings of a unit or answer column.

A unit or answer column holds a handful of distinct spellings; comparing the column with each
costs far less than hashing every row, so short tables become a when/then chain.
"""

from __future__ import annotations

from collections.abc import Mapping

import polars as pl

__all__ = ["SHORT_LOOKUP", "lookup"]
SHORT_LOOKUP = 8
"""Up to this many keys, a lookup is a chain of equality tests (cheap on text columns)."""


def lookup(column: pl.Expr, table: Mapping[str, object], dtype: pl.DataType) -> pl.Expr:
    """Each row's value of ``table`` for its text in ``column`` (null when absent)."""
    if len(table) > SHORT_LOOKUP:
        return column.replace_strict(dict(table), default=None, return_dtype=dtype)
    chain: pl.Expr = pl.lit(None, dtype=dtype)
    for key, value in reversed(list(table.items())):
        chain = pl.when(column == key).then(pl.lit(value, dtype=dtype)).otherwise(chain)
    return chain
