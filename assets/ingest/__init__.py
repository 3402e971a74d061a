"""ingest layer: raw log drop -> `raw_<table>`, `quarantine`, `ingest_files` (per domain).

One partitioned asset per contract table (`assets.py`), each running `table.ingest_table`:

- `discover.py`  which files of `<logs_root>/<domain>/` hold the table (`<table>.*`, `<table>-*`)
- `read.py`      each file -> a DuckDB table of text columns with record numbers and parse errors
                 (Parquet, CSV, JSON Lines; gzip streams checked, truncation kept as a record)
- `cast.py`      contract types (TRY_CAST in SQL), missing values and bad types as reasons
- `reference.py` unknown requests/items and duplicate keys (first in file order wins)
- `privacy.py`   user ids -> keyed hashes, personal data in text masked (core.anonymize)
- `accepted.py`, `quarantine.py`  the SELECTs of the warehouse rows and the quarantine rows
- `table.py`     the whole of one table, written in one warehouse transaction
- `domain_settings.py`  `<domain>/domain.toml` (time zone, ...) -> `raw_domain_settings`

Every record read is accepted or quarantined (asserted): read = accepted + quarantined.
"""
