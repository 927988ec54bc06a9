"""Run one environment of the platform on an embedded AWS emulator (moto) on 127.0.0.1."""

__all__: list[str] = []
