"""Synthetic prefecture: realistic settlement lists (4101A) for tests, benchmarks and the demo.

Not a deployed service: a generator whose output behaves like a prefecture's year of discharges, with a
ground truth (``truth.jsonl``) the system under test never reads.
"""
