"""Benchmark harness: skext against its peers, side by side in one run (never imported by skext)."""
