"""Dose-finding designs: pure numpy/scipy, no I/O. See `base` for the one interface they share."""
