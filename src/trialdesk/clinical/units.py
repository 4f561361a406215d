"""The one units layer of trialdesk: a pint registry that knows how laboratories spell units.

Laboratory reports spell the same unit many ways (``x10^9/L``, ``10*9/L`` in UCUM, ``10⁹/L``,
``K/uL``, ``µmol/L`` with a micro sign, a Greek mu or a plain ``u``). Every spelling trialdesk
accepts is listed once in :data:`UNITS` and maps to one display symbol and one pint unit, so the
rest of the code compares symbols, never free text. Pint does the arithmetic.

Mass and substance concentrations (``mg/dL`` and ``µmol/L``) convert only when the caller gives
the analyte's molar mass, because the factor depends on the molecule (see
:mod:`trialdesk.clinical.analytes`).

Converted values are rounded to 12 significant digits: a laboratory value never carries more, and
the rounding keeps exact values exact at eligibility thresholds (1500 /µL is 1.5 x10^9/L, not
1.4999999999999998).
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import cache, lru_cache
from typing import Any

import pint

from trialdesk.clinical.errors import UnitError

__all__ = [
    "UNITS",
    "UnitSpec",
    "compatible_units",
    "convert",
    "normalise_spelling",
    "parse_unit",
    "ureg",
]

ureg: Any = pint.UnitRegistry()
"""The module-level pint registry, extended with the scaled cell-count units below."""

# Pint refuses unit expressions with a numeric factor ("1e9/L"), so scaled counts get names.
for _definition in (
    "count_e9_per_liter = 1e9 / liter",
    "count_e12_per_liter = 1e12 / liter",
    "count_e3_per_microliter = 1e3 / microliter",
    "count_e6_per_microliter = 1e6 / microliter",
):
    ureg.define(_definition)


@dataclass(frozen=True)
class UnitSpec:
    """One accepted unit: its display symbol, its pint expression, and other spellings of it."""

    symbol: str
    pint_expression: str
    aliases: tuple[str, ...] = ()

    @property
    def pint_unit(self) -> Any:
        return _parsed(self.pint_expression)

    @property
    def dimensionality(self) -> Any:
        return _parsed(self.pint_expression).dimensionality


@cache
def _parsed(expression: str) -> Any:
    return ureg.parse_units(expression)


UNITS: tuple[UnitSpec, ...] = (
    # Cell counts per volume (counts are dimensionless, so these are 1/volume).
    UnitSpec("10^9/L", "count_e9_per_liter", ("x10^9/L", "×10^9/L", "10*9/L", "10^9 cells/L")),
    UnitSpec("10^12/L", "count_e12_per_liter", ("x10^12/L", "×10^12/L", "10*12/L")),
    UnitSpec(
        "10^3/µL",
        "count_e3_per_microliter",
        ("x10^3/µL", "10^3/uL", "10*3/uL", "K/uL", "K/µL", "10^3/mm3", "x10^3/mm3"),
    ),
    UnitSpec("10^6/µL", "count_e6_per_microliter", ("x10^6/µL", "10^6/uL", "10*6/uL", "M/uL")),
    UnitSpec("/µL", "1 / microliter", ("/uL", "1/uL", "cells/uL", "{cells}/uL", "per uL")),
    UnitSpec("/mm3", "1 / millimeter ** 3", ("1/mm3", "cells/mm3", "/mm^3", "per mm3")),
    # Mass concentration.
    UnitSpec("g/L", "gram / liter"),
    UnitSpec("g/dL", "gram / deciliter"),
    UnitSpec("mg/dL", "milligram / deciliter"),
    UnitSpec("mg/L", "milligram / liter"),
    # Substance concentration.
    UnitSpec("mmol/L", "millimole / liter"),
    UnitSpec("µmol/L", "micromole / liter", ("umol/L",)),
    # Catalytic concentration (enzymes); the IU of an enzyme is the same micromole per minute.
    UnitSpec("U/L", "enzyme_unit / liter", ("IU/L", "[IU]/L")),
    # Fractions and ratios.
    UnitSpec("%", "percent", ("percent",)),
    UnitSpec("1", "dimensionless", ("", "ratio", "unitless", "{ratio}", "{INR}", "{score}")),
    # Time, mass, length, flow, age.
    UnitSpec("s", "second", ("sec", "secs", "second", "seconds")),
    UnitSpec("kg", "kilogram", ("kgs", "kilogram", "kilograms", "公斤")),
    UnitSpec("lb", "pound", ("lbs", "[lb_av]", "pound", "pounds")),
    UnitSpec("cm", "centimeter", ("centimetre", "centimetres", "centimeter", "centimeters")),
    UnitSpec("m", "meter", ("metre", "metres", "meter", "meters")),
    UnitSpec("in", "inch", ("[in_i]", "inch", "inches")),
    UnitSpec("mL/min", "milliliter / minute", ("ml/min", "cm3/min")),
    UnitSpec("years", "year", ("year", "yr", "yrs", "y", "a", "岁")),
)
"""Every unit trialdesk accepts, by display symbol. Spellings are matched after
:func:`normalise_spelling`, so case, spaces, µ/μ/u and superscripts do not matter."""


_SUPERSCRIPTS = "⁰¹²³⁴⁵⁶⁷⁸⁹⁻"
_SUPERSCRIPT_DIGITS = str.maketrans(_SUPERSCRIPTS, "0123456789-")


@lru_cache(maxsize=4096)
def normalise_spelling(text: str) -> str:
    """Fold a unit spelling to a lookup key: ``"x10⁹ /L"``, ``"10*9/l"`` and ``"10^9/L"`` agree.

    Cached: a few spellings recur in every screening.
    """
    folded = re.sub(
        f"[{_SUPERSCRIPTS}]+",
        lambda match: "^" + match.group().translate(_SUPERSCRIPT_DIGITS),
        text,
    )
    folded = unicodedata.normalize("NFKC", folded)  # micro sign to Greek mu, full-width to ASCII
    folded = folded.replace("μ", "u")
    folded = re.sub(r"\{[^}]*\}", "", folded)  # UCUM annotations such as {cells}
    folded = "".join(folded.split()).lower()
    folded = folded.replace("×", "x").replace("**", "^")
    folded = re.sub(r"10[*e](?=\d)", "10^", folded)  # UCUM 10*9 and 10e9
    folded = re.sub(r"^x(?=10\^)", "", folded)  # leading multiplication sign
    folded = folded.replace("cells", "").replace("cell", "")
    return re.sub(r"^1/", "/", folded)


def _build_lookup() -> dict[str, UnitSpec]:
    lookup: dict[str, UnitSpec] = {}
    for spec in UNITS:
        for spelling in (spec.symbol, *spec.aliases):
            key = normalise_spelling(spelling)
            existing = lookup.get(key)
            if existing is not None and existing is not spec:
                raise AssertionError(f"unit spelling {spelling!r} is ambiguous")
            lookup[key] = spec
    return lookup


_LOOKUP = _build_lookup()
_BY_SYMBOL = {spec.symbol: spec for spec in UNITS}
_MASS_CONCENTRATION = _parsed("gram / liter").dimensionality
_SUBSTANCE_CONCENTRATION = _parsed("mole / liter").dimensionality


def _spec(symbol: str) -> UnitSpec:
    spec = _LOOKUP.get(normalise_spelling(symbol))
    if spec is None:
        raise ValueError(f"{symbol!r} is not a trialdesk unit symbol")
    return spec


def _molar_pair(first: Any, second: Any) -> bool:
    return {str(first), str(second)} == {str(_MASS_CONCENTRATION), str(_SUBSTANCE_CONCENTRATION)}


def compatible_units(symbol: str, *, molar_mass_g_per_mol: float | None = None) -> tuple[str, ...]:
    """Display symbols convertible to ``symbol`` (mass <-> molar only with a molar mass)."""
    target = _spec(symbol).dimensionality
    return tuple(
        spec.symbol
        for spec in UNITS
        if spec.dimensionality == target
        or (molar_mass_g_per_mol is not None and _molar_pair(spec.dimensionality, target))
    )


def _listing(symbols: Iterable[str]) -> str:
    return ", ".join(repr(symbol) if symbol in ("", "1") else symbol for symbol in symbols)


def parse_unit(spelling: str, *, field: str, accepted: Iterable[str] | None = None) -> str:
    """Return the display symbol for ``spelling``, or raise :class:`UnitError` naming ``field``.

    ``accepted`` (display symbols) narrows what is allowed, e.g. to the units of one analyte;
    the error message lists exactly those.
    """
    allowed = tuple(accepted) if accepted is not None else tuple(spec.symbol for spec in UNITS)
    spec = _LOOKUP.get(normalise_spelling(spelling))
    if spec is None:
        raise UnitError(
            f"unknown unit {spelling!r}; use one of: {_listing(allowed)}",
            field=field,
        )
    if spec.symbol not in allowed:
        raise UnitError(
            f"unit {spelling!r} does not fit this quantity; use one of: {_listing(allowed)}",
            field=field,
        )
    return spec.symbol


def _significant(value: float, digits: int = 12) -> float:
    return float(f"{value:.{digits}g}")


@dataclass(frozen=True)
class _Conversion:
    """How to take a magnitude from one unit to another: an optional molar-mass step, then a
    factor (pint's own, so ``value * factor`` is the number pint itself would give)."""

    molar_step: str | None  # "multiply" (substance -> mass), "divide" (mass -> substance), None
    molar_mass: float
    factor: float

    def apply(self, value: float) -> float:
        if self.molar_step == "multiply":
            value = value * self.molar_mass
        elif self.molar_step == "divide":
            value = value / self.molar_mass
        return value * self.factor


@lru_cache(maxsize=4096)
def _conversion(from_unit: str, to_unit: str, molar_mass_g_per_mol: float | None) -> _Conversion:
    """The conversion between two spellings, worked out once: resolving spellings and asking
    pint dominate the cost of :func:`convert`. Raises :class:`UnitError` without a field."""
    target = _spec(to_unit)
    accepted = compatible_units(target.symbol, molar_mass_g_per_mol=molar_mass_g_per_mol)
    source = _BY_SYMBOL[parse_unit(from_unit, field="", accepted=accepted)]
    quantity = ureg.Quantity(1.0, source.pint_unit)
    step: str | None = None
    molar = 0.0
    if source.dimensionality != target.dimensionality:
        if molar_mass_g_per_mol is None or molar_mass_g_per_mol <= 0:
            raise UnitError(
                f"converting {source.symbol} to {target.symbol} needs the analyte's molar mass"
            )
        molar = molar_mass_g_per_mol
        molar_mass = ureg.Quantity(molar_mass_g_per_mol, "gram / mole")
        if source.dimensionality == _SUBSTANCE_CONCENTRATION:
            step, quantity = "multiply", quantity * molar_mass
        else:
            step, quantity = "divide", quantity / molar_mass
    factor = float(ureg.Quantity(1.0, quantity.units).to(target.pint_unit).magnitude)
    return _Conversion(step, molar, factor)


def convert(
    value: float,
    from_unit: str,
    to_unit: str,
    *,
    field: str,
    molar_mass_g_per_mol: float | None = None,
) -> float:
    """Convert ``value`` from one unit spelling to another.

    ``to_unit`` is trusted (it comes from code or the protocol); ``from_unit`` is user input and
    an unknown or incompatible spelling raises :class:`UnitError` naming ``field`` and listing the
    units that would work. Mass <-> substance concentration needs ``molar_mass_g_per_mol``.
    """
    try:
        conversion = _conversion(from_unit, to_unit, molar_mass_g_per_mol)
    except UnitError as exc:
        raise UnitError(str(exc), field=field) from None
    return _significant(float(conversion.apply(value)))
