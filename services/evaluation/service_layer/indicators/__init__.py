"""Use cases of performance evaluation: runs, indicator queries (with the tenant filter), scorecards, reports."""
