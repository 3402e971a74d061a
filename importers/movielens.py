"""MovieLens, the `ml-latest-small` layout (GroupLens): `movies.csv` (movieId, title, genres
separated by `|`), `ratings.csv` (userId, movieId, rating, timestamp), optional `tags.csv`
(userId, movieId, tag, timestamp); `links.csv` is not needed.

Movies are items (the first genre is the category, all genres are tags; no price). A rating says
the user watched the movie: event type `rating`, mapped to `order` in `domain.toml`, with the
stars as a `rating` signal; a free-text tag is an engagement: `tag`, mapped to `click` (the tag's
text is not imported). A user's ratings and tags less than 30 minutes apart form one request (no
query). "(no genres listed)" is no category.
"""

from __future__ import annotations

from pathlib import Path

import polars as pl

from importers.common import (
    SAMPLED_NEGATIVES,
    ImportResult,
    drop_duplicate_events,
    read_text_csv,
    requests_of,
    require_columns,
    require_file,
    sessionize,
    write_drop,
)
from schemas.domain import DomainSettings, EventMapping, Signal, SourceSpec, Wording

FORMAT = "movielens"
NO_GENRE = "(no genres listed)"


def import_movielens(src: Path, out_root: Path, domain: str) -> ImportResult:
    src = Path(src)
    movies_path = require_file(src / "movies.csv", "MovieLens movies")
    ratings_path = require_file(src / "ratings.csv", "MovieLens ratings")
    movies = require_columns(
        read_text_csv(movies_path), movies_path, ("movieId", "title", "genres")
    )
    ratings = require_columns(
        read_text_csv(ratings_path), ratings_path, ("userId", "movieId", "rating", "timestamp")
    )
    parts = [ratings.with_columns(pl.lit("rating").alias("event_type"))]
    tags_path = src / "tags.csv"
    if tags_path.is_file():
        tags = require_columns(
            read_text_csv(tags_path), tags_path, ("userId", "movieId", "timestamp")
        )
        parts.append(tags.select("userId", "movieId", "timestamp").with_columns(
            pl.lit("tag").alias("event_type")))  # fmt: skip
    notes: list[str] = []
    events = pl.concat(parts, how="diagonal").select(
        pl.col("userId").alias("user_id"),
        pl.col("movieId").alias("item_id"),
        pl.from_epoch(pl.col("timestamp").cast(pl.Int64), time_unit="s").alias("ts"),
        "event_type",
        "rating",
    )
    events = drop_duplicate_events(sessionize(events), notes)
    events = events.select("request_id", "user_id", "item_id", "ts", "event_type", "rating")
    genres = pl.col("genres").str.split("|").list.filter(pl.element() != NO_GENRE)
    items = movies.select(
        pl.col("movieId").alias("item_id"),
        "title",
        genres.list.first().alias("category"),
        genres.alias("tags"),
    ).sort("item_id")
    unknown = events.join(items.select("item_id"), on="item_id", how="anti").height
    if unknown:
        notes.append(f"{unknown:,} ratings/tags of movies not in movies.csv left out")
        events = events.join(items.select("item_id"), on="item_id", how="semi")
    kinds = set(events["event_type"].unique())
    settings = DomainSettings(
        negatives=SAMPLED_NEGATIVES,
        languages=["en"],
        source=SourceSpec(format=FORMAT, description="MovieLens (ml-latest-small layout)"),
        wording=Wording(platform="a movie recommendation service", service="movies"),
        events=EventMapping(
            map={k: v for k, v in {"rating": "order", "tag": "click"}.items() if k in kinds}
        ),
        signals=[Signal(table="events", column="rating", kind="rating")],
    )
    notes.append("items: no price; requests: no query; time zone UTC (set it in domain.toml)")
    users = events.select("user_id").unique().sort("user_id")
    tables = {"items": items, "users": users, "requests": requests_of(events), "events": events}
    return write_drop(out_root, domain, FORMAT, tables, settings, notes)
