"""Adapters of the evaluation service: files, repositories, clients."""
