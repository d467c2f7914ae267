"""POPs clearing-house node: harvest, map, store, index and serve POPs metadata."""

__version__ = "0.1.0"
