"""Use cases of the evaluation service."""
