"""Helpers shared by the estimators (no numerics)."""
