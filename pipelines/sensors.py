"""Sensors (see the module docstrings of each sensor for what it watches)."""

SENSORS: list = []
