"""RecBole atomic files: a folder `<name>/` with `<name>.inter` (required), `<name>.item` and
`<name>.user`, tab-separated, the header naming each field with its type (`user_id:token`,
`rating:float`, `timestamp:float`, `genre:token_seq`).

Interactions become events (type `interaction`, which `domain.toml` maps to `click`: atomic files
say that a user interacted, not how; map it to `order` in the written file when the dataset's
interactions are purchases), a user's interactions less than 30 minutes apart one request (no
query). An interaction needs a timestamp (`timestamp:float`, seconds). The item file gives the
title (the first field named like title/name), the category (the first of class/category/genre/
categories; a token_seq's first token) and the price (a field named price); every other field is
kept as an extra column, and a `rating` field of the interactions is a signal.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from importers.common import (
    SAMPLED_NEGATIVES,
    ImportFailed,
    ImportResult,
    drop_duplicate_events,
    requests_of,
    sessionize,
    write_drop,
)
from schemas.domain import DomainSettings, EventMapping, Signal, SourceSpec

FORMAT = "recbole"
TITLE_FIELDS = ("title", "movie_title", "item_name", "name", "product_name")
CATEGORY_FIELDS = ("class", "category", "categories", "genre", "genres")
PRICE_FIELDS = ("price",)
TYPES = ("token", "token_seq", "float", "float_seq")


def read_atomic(path: Path) -> pl.DataFrame:
    """An atomic file as text columns named without their `:type` suffix."""
    try:
        frame = pl.read_csv(path, separator="\t", infer_schema=False, quote_char=None)
    except (pl.exceptions.PolarsError, OSError) as exc:
        raise ImportFailed(f"{path}: not a RecBole atomic file ({exc})") from exc
    names = []
    for header in frame.columns:
        name, _, kind = header.partition(":")
        if kind not in TYPES:
            raise ImportFailed(
                f"{path}: header field {header!r} lacks a RecBole type ({', '.join(TYPES)})"
            )
        names.append(name)
    return frame.rename(dict(zip(frame.columns, names, strict=True)))


def _first(columns: list[str], wanted: tuple[str, ...]) -> str | None:
    return next((c for c in wanted if c in columns), None)


def _files(src: Path) -> tuple[str, Path]:
    inter = sorted(src.glob("*.inter")) if src.is_dir() else []
    if len(inter) != 1:
        raise ImportFailed(f"{src}: expected one <name>.inter file, found {len(inter)}")
    return inter[0].stem, inter[0]


def import_recbole(src: Path, out_root: Path, domain: str) -> ImportResult:
    src = Path(src)
    name, inter_path = _files(src)
    inter = read_atomic(inter_path)
    for needed in ("user_id", "item_id", "timestamp"):
        if needed not in inter.columns:
            raise ImportFailed(f"{inter_path}: lacks the field {needed!r} (has {inter.columns})")
    notes: list[str] = []
    ts = pl.col("timestamp").cast(pl.Float64, strict=False)
    bad = inter.filter(ts.is_null()).height
    if bad:
        raise ImportFailed(
            f"{inter_path}: {bad:,} interactions with a timestamp that is not a number"
        )
    events = inter.with_columns(
        pl.from_epoch((ts * 1_000_000).cast(pl.Int64), time_unit="us").alias("ts"),
        pl.lit("interaction").alias("event_type"),
    ).drop("timestamp")
    events = drop_duplicate_events(sessionize(events), notes)
    front = ["request_id", "user_id", "item_id", "ts", "event_type"]
    events = events.select(front + [c for c in events.columns if c not in front])

    item_path = src / f"{name}.item"
    catalog = read_atomic(item_path) if item_path.is_file() else None
    ids = events.select("item_id").unique()
    if catalog is None:
        notes.append(f"no {name}.item: items have ids only")
        items = ids.sort("item_id")
    else:
        if "item_id" not in catalog.columns:
            raise ImportFailed(f"{item_path}: lacks the field 'item_id'")
        title = _first(catalog.columns, TITLE_FIELDS)
        category = _first(catalog.columns, CATEGORY_FIELDS)
        price = _first(catalog.columns, PRICE_FIELDS)
        renames = {title: "title", price: "price"}
        items = catalog.rename({k: v for k, v in renames.items() if k and k != v})
        if category:
            items = items.with_columns(
                pl.col(category).str.split(" ").list.first().alias("category"),
                pl.col(category).str.split(" ").alias("tags"),
            ).drop(category)
        items = items.unique("item_id", keep="first", maintain_order=True)
        # Items interacted with but absent from the catalog keep their id.
        items = pl.concat([items, ids.join(items, on="item_id", how="anti")], how="diagonal")
        items = items.sort("item_id")
    user_path = src / f"{name}.user"
    users = (
        read_atomic(user_path).unique("user_id", keep="first", maintain_order=True)
        if user_path.is_file()
        else events.select("user_id").unique()
    )
    users = pl.concat(
        [users, events.select("user_id").unique().join(users, on="user_id", how="anti")],
        how="diagonal",
    ).sort("user_id")
    signals = [Signal(table="events", column="rating", kind="rating")] if "rating" in events else []
    settings = DomainSettings(
        negatives=SAMPLED_NEGATIVES,
        source=SourceSpec(format=FORMAT, description=f"RecBole atomic files: {name}"),
        events=EventMapping(map={"interaction": "click"}),
        signals=signals,
    )
    notes.append("requests: no query; time zone UTC (set it in domain.toml)")
    tables = {"items": items, "users": users, "requests": requests_of(events), "events": events}
    return write_drop(out_root, domain, FORMAT, tables, settings, notes)
