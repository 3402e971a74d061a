"""From simulated arrays to the contract tables: ids and query text, column-wise in polars.

Ids are deterministic and readable: users `U00000042`, items `fd-i0000123`, requests
`fd-r00000042-0007` (the user's 8th request in the domain). Query text is assembled from the latent
intent (category word, optional verb, feature, place and price cap) in the request's language.
"""

from __future__ import annotations

import numpy as np
import polars as pl

from loggen.catalog import CHANNELS, CITIES, SCENES, Domain
from loggen.funnel import EVENT_CODES, BlockLogs
from loggen.items import ItemCatalog
from loggen.population import user_id_expr

TS = pl.Datetime("us")


def _lookup(values: list[str], index: pl.Expr) -> pl.Expr:
    """values[index] as an expression (a small lookup table applied per row)."""
    return index.replace_strict(dict(enumerate(values)), return_dtype=pl.String)


def request_ids(domain: Domain, logs: BlockLogs) -> pl.Series:
    frame = pl.DataFrame({"user_idx": logs.req_user, "seq": logs.req_seq})
    return frame.select(
        pl.concat_str(
            [
                pl.lit(f"{domain.code}-r"),
                pl.col("user_idx").cast(pl.String).str.zfill(8),
                pl.lit("-"),
                pl.col("seq").cast(pl.String).str.zfill(4),
            ]
        )
    ).to_series()


def query_text(domain: Domain, logs: BlockLogs) -> pl.Series:
    """zh: [verb][place][feature的]<word>[ cap元以内]; en: [verb ][feature ]<word>[ place][ under ¥cap]."""
    words = [
        [c.query_words[w % len(c.query_words)][lang] for c in domain.categories for w in range(3)]
        for lang in (0, 1)
    ]
    dist = [[d[1][lang] for c in CITIES for d in c[2]] for lang in (0, 1)]
    dist_offset = np.cumsum([0] + [len(c[2]) for c in CITIES[:-1]])
    feats = [[f.name[lang] for f in domain.features] for lang in (0, 1)]
    frame = pl.DataFrame(
        {
            "zh": logs.req_zh,
            "word": logs.req_cat * 3 + logs.req_word,
            "verb": logs.req_verb,
            "feat": logs.req_feature,
            "cap": logs.req_cap,
            "loc": logs.req_loc,
            "dist": dist_offset[logs.req_city] + logs.req_district,
        }
    )
    has_feat, has_cap = pl.col("feat") >= 0, pl.col("cap") >= 0
    cap = pl.col("cap").cast(pl.String)
    zh = pl.concat_str(
        [
            pl.when(pl.col("verb")).then(pl.lit(domain.verbs[0])).otherwise(pl.lit("")),
            pl.when(pl.col("loc") == 1)
            .then(pl.lit("附近的"))
            .when(pl.col("loc") == 2)
            .then(_lookup(dist[0], pl.col("dist")) + pl.lit("的"))
            .otherwise(pl.lit("")),
            pl.when(has_feat)
            .then(_lookup(feats[0], pl.col("feat")) + pl.lit("的"))
            .otherwise(pl.lit("")),
            _lookup(words[0], pl.col("word")),
            pl.when(has_cap).then(pl.lit(" ") + cap + pl.lit("元以内")).otherwise(pl.lit("")),
        ]
    )
    en = pl.concat_str(
        [
            pl.when(pl.col("verb")).then(pl.lit(domain.verbs[1] + " ")).otherwise(pl.lit("")),
            pl.when(has_feat)
            .then(_lookup(feats[1], pl.col("feat")) + pl.lit(" "))
            .otherwise(pl.lit("")),
            _lookup(words[1], pl.col("word")),
            pl.when(pl.col("loc") == 1)
            .then(pl.lit(" near me"))
            .when(pl.col("loc") == 2)
            .then(pl.lit(" in ") + _lookup(dist[1], pl.col("dist")))
            .otherwise(pl.lit("")),
            pl.when(has_cap).then(pl.lit(" under ¥") + cap).otherwise(pl.lit("")),
        ]
    )
    return frame.select(pl.when(pl.col("zh")).then(zh).otherwise(en).alias("query")).to_series()


def requests_frame(logs: BlockLogs, ids: pl.Series, queries: pl.Series) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "request_id": ids,
            "user_idx": logs.req_user,
            "ts": logs.req_ts,
            "query": queries,
            "city_idx": logs.req_city,
            "lat": logs.req_lat,
            "lon": logs.req_lon,
            "scene_idx": logs.req_scene,
            "channel_idx": logs.req_channel,
        }
    ).select(
        "request_id",
        user_id_expr().alias("user_id"),
        pl.col("ts").cast(TS),
        "query",
        _lookup([c[0] for c in CITIES], pl.col("city_idx")).alias("city"),
        pl.col("lat").fill_nan(None),
        pl.col("lon").fill_nan(None),
        _lookup(list(SCENES), pl.col("scene_idx")).alias("scene"),
        _lookup(list(CHANNELS), pl.col("channel_idx")).alias("channel"),
    )


def impressions_frame(logs: BlockLogs, ids: pl.Series, items: ItemCatalog) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "request_id": ids.gather(logs.imp_req),
            "item_id": items.ids.gather(logs.imp_item),
            "position": pl.Series(logs.imp_pos, dtype=pl.Int32),
            "ts": pl.Series(logs.imp_ts).cast(TS),
        }
    )


def events_frame(
    logs: BlockLogs, ids: pl.Series, requests: pl.DataFrame, items: ItemCatalog
) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "request_id": ids.gather(logs.ev_req),
            "user_id": requests["user_id"].gather(logs.ev_req),
            "item_id": items.ids.gather(logs.ev_item),
            "ts": pl.Series(logs.ev_ts).cast(TS),
            "event_type": pl.Series(np.array(EVENT_CODES)[logs.ev_type]),
            "amount": pl.Series(logs.ev_amount).fill_nan(None),
        }
    )


def agent_inputs(
    logs: BlockLogs, requests: pl.DataFrame, impressions: pl.DataFrame
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """The `requests` and `retrieved` frames of `make_agent_turns` (see interfaces.md)."""
    chosen = np.flatnonzero(logs.req_retrieved > 0)
    reqs = requests[chosen].select(
        "request_id",
        "user_id",
        "ts",
        "query",
        pl.Series("lang", np.where(logs.req_zh[chosen], "zh", "en")),
        "lat",
        "lon",
    )
    top = logs.imp_pos <= logs.req_retrieved[logs.imp_req]
    retrieved = (
        impressions.filter(pl.Series(top))
        .group_by("request_id", maintain_order=True)
        .agg(pl.col("item_id").alias("item_ids"))
    )
    return reqs, retrieved
