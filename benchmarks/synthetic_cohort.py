"""Synthetic cohorts of patients after chest radiotherapy, in the flat batch-screening layout.

Seeded and vectorised (numpy), so a million rows take a few seconds. The distributions are
plausible for lung-cancer patients with suspected radiation pneumonitis in a Chinese centre; they
are invented for testing and benchmarking, not fitted to any data set:

- age about normal(62, 9) years, clipped to 16-90 (some fall outside 18-75); 70 % men;
- body weight by sex (men ~66 kg, women ~56 kg), 5 % reported in lb;
- ECOG mostly 0-2, pneumonitis grade mostly 2-3, onset a few weeks before screening;
- blood counts and chemistry log-normal around typical values with tails past every threshold,
  in the units laboratories use (10^9/L, /µL, 10^3/µL; g/L, g/dL, mmol/L; µmol/L, mg/dL), each
  with its laboratory's ULN; samples 0-12 days before screening; ~3 % of each result missing;
- coded history flags for every protocol code set at rough prevalences, with onset dates;
- anticoagulants, growth factors and transfusions; investigator answers, some still pending.

Usage: ``generate_cohort(10_000, seed=1)`` returns a Polars DataFrame;
``python benchmarks/synthetic_cohort.py 1000000 cohort.parquet`` writes a file.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
from pathlib import Path

import numpy as np
import polars as pl

from trialdesk.eligibility.columnar.layout import (
    history_columns,
    judgement_column,
    lab_columns,
    layout_for,
    medication_columns,
)
from trialdesk.protocol import builtin_protocol
from trialdesk.protocol.models import Protocol

__all__ = ["generate_cohort"]

FIRST_SCREENING = dt.date(2025, 1, 1)
EPOCH = dt.date(1970, 1, 1)

# Prevalence of a coded entry per code set (rough guesses for this population).
HISTORY_PREVALENCE = {
    "chest_radiotherapy": 0.93,
    "radiation_lung_injury": 0.85,
    "chronic_bronchitis_emphysema_cor_pulmonale": 0.12,
    "lung_resection": 0.10,
    "heart_failure": 0.04,
    "myocardial_infarction": 0.03,
    "unstable_angina": 0.02,
    "severe_arrhythmia": 0.02,
    "cerebral_infarction": 0.03,
    "cerebral_haemorrhage": 0.01,
    "hiv": 0.003,
    "syphilis": 0.005,
    "tuberculosis": 0.01,
    "influenza": 0.02,
    "adenovirus": 0.005,
    "haemorrhage_thrombosis": 0.03,
    "bleeding_tendency": 0.01,
    "cachexia": 0.02,
    "shock": 0.003,
}
# (share given, share still ongoing) per medication category.
MEDICATIONS = {"anticoagulant": 0.07, "growth_factor": 0.08, "transfusion": 0.03}

COUNT_UNITS = (
    ("10^9/L", 1.0, 2, 0.55),
    ("/µL", 1000.0, 0, 0.2),
    ("10^3/µL", 1.0, 2, 0.15),
    ("x10^9/L", 1.0, 2, 0.10),
)


def _labels(labels: list[str | None], index: np.ndarray) -> pl.Series:
    """Text labels picked by ``index`` (fast: no Python objects per row)."""
    return pl.Series(labels, dtype=pl.String).gather(pl.Series(index, dtype=pl.UInt32))


def _choice(
    rng: np.random.Generator, n: int, labels: list[str | None], p: list[float]
) -> pl.Series:
    return _labels(labels, rng.choice(len(labels), size=n, p=p))


def _missing(rng: np.random.Generator, values: np.ndarray, share: float) -> np.ndarray:
    """Values as float with ``share`` of them set to NaN (written as null)."""
    out = values.astype(float).copy()
    out[rng.random(values.shape[0]) < share] = np.nan
    return out


def _dates(days: np.ndarray) -> pl.Series:
    """Days since 1970-01-01 (NaN = missing) as a Polars Date series."""
    return pl.Series(days, dtype=pl.Float64, nan_to_null=True).cast(pl.Int32).cast(pl.Date)


def _lab(
    rng: np.random.Generator,
    n: int,
    on: np.ndarray,
    canonical: np.ndarray,
    units: tuple[tuple[str, float, int, float], ...],
    uln: tuple[float, str] | None,
) -> dict[str, object]:
    """Reported value/unit/date/ULN columns for canonical values in mixed units."""
    index = rng.choice(len(units), size=n, p=[u[3] for u in units])
    unit = _labels([u[0] for u in units], index)
    factor = np.asarray([u[1] for u in units])[index]
    decimals = np.asarray([u[2] for u in units])[index]
    reported = canonical * factor
    scale = 10.0**decimals
    reported = np.round(reported * scale) / scale
    reported = _missing(rng, reported, 0.03)
    age_days = rng.choice(
        13, size=n, p=[0.16, 0.18, 0.16, 0.13, 0.10, 0.08, 0.06, 0.05, 0.03, 0.02, 0.01, 0.01, 0.01]
    )
    taken = np.where(np.isnan(reported), np.nan, on - age_days)
    out: dict[str, object] = {"value": reported, "unit": unit, "taken_on": _dates(taken)}
    if uln is not None:
        limit, uln_unit = uln
        out["uln"] = np.where(np.isnan(reported), np.nan, limit)
        out["uln_unit"] = _labels([uln_unit], np.zeros(n, dtype=np.uint32))
    return out


def _flags(values: np.ndarray, unknown: np.ndarray) -> pl.Series:
    """Booleans with nulls where ``unknown``."""
    return pl.Series(values.astype(bool)).set(pl.Series(unknown.astype(bool)), None)


def generate_cohort(n: int, *, seed: int = 0, protocol: Protocol | None = None) -> pl.DataFrame:
    """``n`` synthetic patients in the batch layout of ``protocol`` (default: NCT06021067)."""
    chosen = protocol or builtin_protocol().protocol
    layout = layout_for(chosen)
    rng = np.random.default_rng(seed)
    first = (FIRST_SCREENING - EPOCH).days
    on = first + rng.integers(0, 365, size=n).astype(float)
    male = rng.random(n) < 0.70
    columns: dict[str, object] = {
        "patient_id": pl.int_range(0, n, eager=True).cast(pl.String).str.zfill(7),
        "screening_date": _dates(on),
    }
    age_days = np.clip(rng.normal(62.0, 9.0, n), 16.0, 90.0) * 365.25
    columns["birth_date"] = _dates(np.floor(on - age_days))
    sex_missing = rng.random(n) < 0.01
    columns["sex"] = _labels(
        ["male", "female", None], np.where(sex_missing, 2, np.where(male, 0, 1))
    )
    weight = np.where(male, rng.normal(66.0, 10.0, n), rng.normal(56.0, 8.5, n))
    weight = np.clip(weight, 35.0, 130.0)
    in_lb = rng.random(n) < 0.05
    columns["weight_value"] = _missing(
        rng, np.where(in_lb, np.round(weight / 0.45359237, 1), np.round(weight, 1)), 0.02
    )
    columns["weight_unit"] = _labels(["kg", "lb"], in_lb.astype(np.uint32))
    if "height" in layout.body:
        height = np.where(male, rng.normal(169.0, 6.0, n), rng.normal(158.0, 6.0, n))
        columns["height_value"] = _missing(rng, np.round(height, 0), 0.05)
        columns["height_unit"] = _labels(["cm"], np.zeros(n, dtype=np.uint32))
    columns["ecog"] = _missing(
        rng, rng.choice(6, size=n, p=[0.12, 0.40, 0.27, 0.13, 0.06, 0.02]).astype(float), 0.03
    )
    columns["pneumonitis_grade"] = _missing(
        rng, rng.choice([1, 2, 3, 4], size=n, p=[0.18, 0.47, 0.27, 0.08]).astype(float), 0.02
    )
    columns["lvef_percent"] = _missing(rng, np.round(np.clip(rng.normal(61, 6.5, n), 25, 80)), 0.06)
    columns["ecg"] = _choice(rng, n, ["normal", "abnormal", None], [0.78, 0.19, 0.03])
    columns["consent_signed_on"] = _dates(
        np.where(rng.random(n) < 0.8, on - rng.integers(0, 5, n), np.nan)
    )
    female_young = ~male & (on - age_days > 0) & (age_days < 50 * 365.25)
    pregnant = np.where(female_young, rng.random(n) < 0.005, False)
    columns["pregnant"] = _flags(pregnant, male & (rng.random(n) < 0.5))
    lactating = female_young & (rng.random(n) < 0.003)
    columns["lactating"] = _flags(lactating, male)
    columns["childbearing_potential"] = _flags(
        (age_days < 50 * 365.25) & (rng.random(n) < 0.8), rng.random(n) < 0.03
    )
    columns["will_use_contraception"] = _flags(rng.random(n) < 0.95, rng.random(n) < 0.08)

    counts = (
        ("10^9/L", 1.0, 2, 0.55),
        ("/µL", 1000.0, 0, 0.2),
        ("10^3/µL", 1.0, 2, 0.15),
        ("x10^9/L", 1.0, 2, 0.10),
    )
    lab_values: dict[
        str, tuple[np.ndarray, tuple[tuple[str, float, int, float], ...], tuple[float, str] | None]
    ] = {
        "anc": (rng.lognormal(np.log(4.2), 0.45, n), counts, None),
        "platelets": (rng.lognormal(np.log(210.0), 0.42, n), counts, None),
        "haemoglobin": (
            np.clip(rng.normal(121.0, 17.0, n), 40.0, 190.0),
            (("g/L", 1.0, 0, 0.7), ("g/dL", 0.1, 1, 0.25), ("mmol/L", 0.0620559, 1, 0.05)),
            None,
        ),
        "bilirubin_total": (
            rng.lognormal(np.log(0.65), 0.5, n),
            (("µmol/L", 17.1, 1, 0.75), ("mg/dL", 1.0, 2, 0.25)),
            (21.0, "µmol/L"),
        ),
        "alt": (
            rng.lognormal(np.log(24.0), 0.6, n),
            (("U/L", 1.0, 0, 0.8), ("IU/L", 1.0, 0, 0.2)),
            (40.0, "U/L"),
        ),
        "ast": (
            rng.lognormal(np.log(25.0), 0.5, n),
            (("U/L", 1.0, 0, 0.8), ("IU/L", 1.0, 0, 0.2)),
            (40.0, "U/L"),
        ),
        "creatinine": (
            np.where(
                male, rng.lognormal(np.log(0.92), 0.25, n), rng.lognormal(np.log(0.72), 0.25, n)
            ),
            (("µmol/L", 88.4, 0, 0.7), ("mg/dL", 1.0, 2, 0.3)),
            (1.2, "mg/dL"),
        ),
        "inr": (np.clip(rng.normal(1.02, 0.09, n), 0.7, 4.0), (("1", 1.0, 2, 1.0),), (1.2, "1")),
        "pt": (np.clip(rng.normal(12.4, 1.1, n), 8.0, 60.0), (("s", 1.0, 1, 1.0),), (13.5, "s")),
    }
    on_anticoagulant = rng.random(n) < MEDICATIONS["anticoagulant"]
    inr, units, uln = lab_values["inr"]
    lab_values["inr"] = (np.where(on_anticoagulant, rng.uniform(1.5, 3.2, n), inr), units, uln)
    for code in layout.labs:
        canonical, units, uln = lab_values[code]
        names = lab_columns(code)
        generated = _lab(rng, n, on, canonical, units, uln)
        if code == "bilirubin_total":
            # a ULN in mg/dL for a value in µmol/L now and then: ULN conversion in play
            flip = rng.random(n) < 0.1
            generated["uln"] = np.where(flip, 1.2, generated["uln"])  # type: ignore[call-overload]
            generated["uln_unit"] = _labels(["µmol/L", "mg/dL"], flip.astype(np.uint32))
        for field, values in generated.items():
            columns[names[field]] = values
        if uln is not None:
            no_uln = rng.random(n) < 0.01
            columns[names["uln"]] = np.where(no_uln, np.nan, generated["uln"])  # type: ignore[call-overload]
            units_of_uln = generated["uln_unit"]
            assert isinstance(units_of_uln, pl.Series)
            columns[names["uln_unit"]] = units_of_uln.set(pl.Series(no_uln), None)
    for code_set in layout.code_sets:
        names = history_columns(code_set)
        share = HISTORY_PREVALENCE.get(code_set, 0.02)
        present = rng.random(n) < share
        if code_set == "radiation_lung_injury":
            onset_days = np.round(rng.gamma(2.0, 18.0, n))
        elif code_set == "chest_radiotherapy":
            onset_days = rng.integers(40, 400, n).astype(float)
        else:
            onset_days = rng.integers(0, 1500, n).astype(float)
        onset = np.where(present & (rng.random(n) < 0.95), on - onset_days, np.nan)
        ended = present & (rng.random(n) < 0.3)
        abatement = np.where(
            ended & ~np.isnan(onset), np.minimum(onset + rng.integers(1, 200, n), on), np.nan
        )
        columns[names["present"]] = pl.Series(present)
        columns[names["onset"]] = _dates(onset)
        columns[names["abatement"]] = _dates(abatement)
    for category in layout.categories:
        names = medication_columns(category)
        given = (
            on_anticoagulant
            if category == "anticoagulant"
            else rng.random(n) < MEDICATIONS.get(category, 0.03)
        )
        start = np.where(given, on - rng.integers(0, 60, n), np.nan)
        course = rng.integers(0, 30, n)
        ongoing = rng.random(n) < (0.8 if category == "anticoagulant" else 0.2)
        end = np.where(given & ~ongoing, np.minimum(start + course, on + 5), np.nan)
        columns[names["start"]] = _dates(start)
        columns[names["end"]] = _dates(end)
    for judgement in layout.judgements:
        yes_share = (
            0.9
            if judgement in ("I1.confirmed", "I6", "I4d.ecg_not_significant", "I4c.pt_in_range")
            else 0.01
        )
        answered = rng.random(n) < 0.9
        yes = rng.random(n) < yes_share
        columns[judgement_column(judgement)] = _labels(
            ["yes", "no", None], np.where(answered, np.where(yes, 0, 1), 2)
        )
    frame = pl.DataFrame(
        {
            name: (
                pl.Series(name, values, nan_to_null=True)
                if isinstance(values, np.ndarray)
                else values
            )
            for name, values in columns.items()
        }
    )
    return frame.select(pl.col(name).alias(name) for name in frame.columns)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("n", type=int)
    parser.add_argument("out", type=Path)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args(argv)
    frame = generate_cohort(args.n, seed=args.seed)
    if args.out.suffix == ".csv":
        frame.write_csv(args.out)
    else:
        frame.write_parquet(args.out)
    print(f"wrote {frame.height:,} patients to {args.out}", file=sys.stderr)


if __name__ == "__main__":
    main()
