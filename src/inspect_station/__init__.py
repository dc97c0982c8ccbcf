"""inspect-station: shop-floor inspection data collector."""

__version__ = "0.1.0"
