"""dimensions layer."""
