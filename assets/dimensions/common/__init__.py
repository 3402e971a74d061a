"""Helpers shared by the dimension builders: splits, item structs, history and candidate text."""
