"""Adapters of performance evaluation: indicator files, the evaluation schema's tables and repository, clients of
collection and settlement."""
