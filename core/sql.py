"""Quoting for SQL that the pipeline builds as text (DuckDB dialect): one way to do it."""


def quote_ident(name: str) -> str:
    """A table or column name as a quoted identifier."""
    return '"' + name.replace('"', '""') + '"'


def sql_literal(text: str) -> str:
    """A string as a single-quoted literal."""
    return "'" + text.replace("'", "''") + "'"
