"""Module-level functions for `core.parallel` tests: worker processes import them by name."""

import os

import polars as pl


def describe_slice(frame: pl.DataFrame, offset: int) -> tuple[int, list[int], int]:
    """(offset, the slice's `n` values, the process that ran it)."""
    return offset, frame["n"].to_list(), os.getpid()


def fail_on_seven(frame: pl.DataFrame, offset: int) -> int:
    if 7 in frame["n"].to_list():
        raise ValueError(f"row {offset + frame['n'].to_list().index(7)} holds 7")
    return frame.height
