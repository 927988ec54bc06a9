"""Market-data processor: trades in, one-minute bars out."""

__all__: list[str] = []
