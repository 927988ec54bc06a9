"""Operator tools for one environment: query its bars, redrive its failure queue."""

__all__: list[str] = []
