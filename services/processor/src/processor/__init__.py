"""Market-data processor: trades in, one-minute bars out."""
