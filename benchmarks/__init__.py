"""Benchmarks and deterministic market-data generators for the processor."""

__all__: list[str] = []
