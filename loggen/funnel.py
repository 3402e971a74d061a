"""The behaviour simulation of one user block: requests -> impressions -> clicks -> carts -> orders.

Everything is a numpy array over all requests / candidates / impressions of the block at once (no
Python loop per event). The latent model:
- each request expresses an intent category drawn from the user's preferences, sometimes with a
  price cap or a required feature; its true relevance to an item follows the ESCI scale
  (3 exact: intent category and modifiers met; 2 substitute: same category failing a modifier or a
  sibling category of the group; 1 complement: a category that goes with it; 0 irrelevant);
- the platform retrieves candidates (intent, substitutes, complements, the user's regulars,
  random items of the city), ranks them by a noisy score and shows the top 5-15;
- the user examines positions with decreasing probability (position bias) and clicks by relevance,
  own taste, item quality and familiarity; carts and orders follow clicks, deterred by price.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np

from core.ids import derive_seed
from loggen.annotations import annotate_block
from loggen.catalog import CHANNEL_WEIGHTS, CITIES, Domain
from loggen.config import GeneratorConfig
from loggen.items import ItemCatalog, group_index
from loggen.population import SENSITIVITY_STRENGTH, UserBlock

US = 1_000_000  # microseconds per second
DAY_US = 86_400 * US
LOCAL_UTC_OFFSET_H = 8  # the cities are in China
TIME_ZONE = "Asia/Shanghai"  # written to each domain's domain.toml (no daylight saving: +8)
EVENT_CODES = ("click", "add_to_cart", "favorite", "order")
SCENE_WEIGHTS = (0.6, 0.25, 0.15)  # search, home_feed, nearby (agent_chat is chosen separately)
TRAVEL_SHARE = {"hotel": 0.55}  # share of requests made for another city
CANDIDATE_SOURCES = (0.5, 0.15, 0.07, 0.08, 0.2)  # intent, substitute, complement, regular, city
MIN_SHOWN, MAX_SHOWN = 5, 15


@dataclass
class BlockLogs:
    """Arrays of one block (or several concatenated). Request-level arrays are indexed by the
    request's position; impressions and events point at it through `*_req`."""

    # requests
    req_user: np.ndarray  # global user index
    req_seq: np.ndarray  # request number of the user (0-based)
    req_ts: np.ndarray  # int64 microseconds since the epoch
    req_cat: np.ndarray
    req_zh: np.ndarray
    req_city: np.ndarray
    req_district: np.ndarray
    req_lat: np.ndarray  # NaN when the app had no location
    req_lon: np.ndarray
    req_scene: np.ndarray  # 0 search, 1 home_feed, 2 nearby, 3 agent_chat
    req_channel: np.ndarray
    req_word: np.ndarray  # which query word of the category
    req_verb: np.ndarray  # bool: query starts with the domain verb
    req_feature: np.ndarray  # required feature index or -1
    req_cap: np.ndarray  # price cap or -1
    req_loc: np.ndarray  # 0 none, 1 "near me", 2 district
    req_retrieved: np.ndarray  # agent requests: how many top items the agent retrieved, else 0
    # impressions (sorted by request, position)
    imp_req: np.ndarray
    imp_item: np.ndarray
    imp_pos: np.ndarray
    imp_ts: np.ndarray
    imp_rel: np.ndarray  # latent true relevance 0-3
    imp_why: (
        np.ndarray
    )  # 0 exact, 1 over budget, 2 missing feature, 3 sibling, 4 complement, 5 none
    # events (sorted by request, ts)
    ev_req: np.ndarray
    ev_item: np.ndarray
    ev_ts: np.ndarray
    ev_type: np.ndarray  # index into EVENT_CODES
    ev_amount: np.ndarray  # NaN where none
    # expert annotations of sampled impressions (one row per expert label)
    ann_imp: np.ndarray
    ann_label: np.ndarray
    ann_expert: np.ndarray

    @property
    def n_requests(self) -> int:
        return len(self.req_user)

    @classmethod
    def concat(cls, parts: list[BlockLogs]) -> BlockLogs:
        offsets = {
            "req": np.cumsum([0] + [p.n_requests for p in parts[:-1]]),
            "imp": np.cumsum([0] + [len(p.imp_req) for p in parts[:-1]]),
        }
        shifted = {"imp_req": "req", "ev_req": "req", "ann_imp": "imp"}
        out = {}
        for f in fields(cls):
            arrays = [getattr(p, f.name) for p in parts]
            if f.name in shifted:
                arrays = [a + o for a, o in zip(arrays, offsets[shifted[f.name]], strict=True)]
            out[f.name] = np.concatenate(arrays)
        return cls(**out)


@dataclass(frozen=True)
class DomainModel:
    """Lookup tables of a domain derived once: category -> substitutes / complements, etc."""

    domain: Domain
    items: ItemCatalog
    subs: np.ndarray  # (K, S) sibling categories, padded with -1
    n_subs: np.ndarray
    comps: np.ndarray  # (K, C) complement categories, padded
    n_comps: np.ndarray
    comp_group: np.ndarray  # (G, G) bool: group b complements group a
    cat_group: np.ndarray
    feats: np.ndarray  # (K, F) features a category can have, padded
    n_feats: np.ndarray
    median_price: np.ndarray  # per category (of the catalog)
    hour_p: np.ndarray

    @classmethod
    def build(cls, domain: Domain, items: ItemCatalog) -> DomainModel:
        groups, cat_group = group_index(domain)
        k = len(domain.categories)
        comp_group = np.zeros((len(groups), len(groups)), dtype=bool)
        for g, others in domain.complements.items():
            for o in others:
                comp_group[groups.index(g), groups.index(o)] = True
        sub_lists = [
            [j for j in range(k) if j != i and cat_group[j] == cat_group[i]] for i in range(k)
        ]
        comp_lists = [
            [j for j in range(k) if comp_group[cat_group[i], cat_group[j]] and j != i]
            for i in range(k)
        ]

        def pad(lists: list[list[int]]) -> tuple[np.ndarray, np.ndarray]:
            width = max(1, max(len(x) for x in lists))
            arr = np.full((k, width), -1, dtype=np.int64)
            for i, x in enumerate(lists):
                arr[i, : len(x)] = x
            return arr, np.array([len(x) for x in lists])

        subs, n_subs = pad(sub_lists)
        comps, n_comps = pad(comp_lists)
        applies = domain.feature_applies()
        feats, n_feats = pad([[f for f, ok in enumerate(row) if ok] for row in applies])
        median = np.array([np.median(items.price[items.category == c]) for c in range(k)])
        hours = np.asarray(domain.hour_weights, dtype=float)
        return cls(
            domain=domain,
            items=items,
            subs=subs,
            n_subs=n_subs,
            comps=comps,
            n_comps=n_comps,
            comp_group=comp_group,
            cat_group=cat_group,
            feats=feats,
            n_feats=n_feats,
            median_price=median,
            hour_p=hours / hours.sum(),
        )


def nice_cap(x: np.ndarray) -> np.ndarray:
    """Round price caps the way people say them: 35, 80, 450, 1200."""
    step = np.where(x < 100, 5, np.where(x < 1000, 50, 100))
    return np.maximum(step, np.round(x / step) * step).astype(np.int64)


def simulate_block(
    model: DomainModel, users: UserBlock, cfg: GeneratorConfig, annotation_quota: int = 0
) -> BlockLogs:
    d, it = model.domain, model.items
    rng = np.random.default_rng(derive_seed(cfg.seed, d.name, "funnel", users.block))
    n, k, days = len(users), len(d.categories), cfg.days
    # Hours follow local life (China, UTC+8); timestamps are stored as naive UTC (the contract).
    start_us = int((cfg.start.toordinal() - 719163) * DAY_US) - LOCAL_UTC_OFFSET_H * 3600 * US

    # --- requests: Poisson sessions per user-day, at domain-typical hours ----------------------
    rate = cfg.requests_per_user_day * d.activity * users.activity
    counts = rng.poisson(np.repeat(rate[:, None], days, axis=1))
    flat = counts.ravel()
    local = np.repeat(np.repeat(np.arange(n), days), flat)
    day = np.repeat(np.tile(np.arange(days), n), flat)
    r = len(local)
    hour = rng.choice(24, r, p=model.hour_p)
    ts = start_us + day * DAY_US + hour * 3600 * US + (rng.random(r) * 3600 * US).astype(np.int64)
    order = np.lexsort((ts, local))
    local, ts = local[order], ts[order]
    first = np.searchsorted(local, local, side="left")
    seq = np.arange(r) - first

    cum = np.cumsum(users.pref, axis=1)
    cat = np.minimum((cum[local] < rng.random(r)[:, None]).sum(axis=1), k - 1)
    zh = users.zh[local] ^ (rng.random(r) < 0.04)
    travel = rng.random(r) < TRAVEL_SHARE.get(d.name, 0.0)
    city = np.where(travel, rng.integers(0, len(CITIES), r), users.city[local])
    n_districts = np.array([len(c[2]) for c in CITIES])
    district = np.floor(rng.random(r) * n_districts[city]).astype(np.int64)
    centre = np.array([c[3] for c in CITIES])
    has_loc = rng.random(r) > 0.12
    lat = np.where(has_loc, np.round(centre[city, 0] + rng.normal(0, 0.03, r), 6), np.nan)
    lon = np.where(has_loc, np.round(centre[city, 1] + rng.normal(0, 0.035, r), 6), np.nan)
    agent = rng.random(r) < cfg.agent_share
    scene = np.where(agent, 3, rng.choice(3, r, p=np.asarray(SCENE_WEIGHTS)))
    channel = rng.choice(len(CHANNEL_WEIGHTS), r, p=np.asarray(CHANNEL_WEIGHTS))
    word = rng.integers(0, 3, r)
    verb = rng.random(r) < 0.3
    # a required feature, among those the intent category can have
    feat_u = rng.random(r)
    feature = model.feats[
        cat, np.floor(feat_u * model.n_feats[cat]).astype(np.int64) % model.feats.shape[1]
    ]
    feature = np.where((rng.random(r) < 0.25) & (model.n_feats[cat] > 0), feature, -1)
    cap = np.where(
        rng.random(r) < 0.25, nice_cap(model.median_price[cat] * rng.uniform(0.7, 1.3, r)), -1
    )
    loc = rng.choice(3, r, p=[0.55, 0.25, 0.2])

    # --- candidates: retrieval from several sources, deduplicated per request ------------------
    n_imp = rng.integers(MIN_SHOWN, MAX_SHOWN + 1, r)
    n_cand = n_imp + 6
    c_req = np.repeat(np.arange(r), n_cand)
    m = len(c_req)
    source = rng.choice(5, m, p=np.asarray(CANDIDATE_SOURCES))
    q_cat = cat[c_req]
    u = rng.random(m)
    sub = model.subs[
        q_cat, np.floor(u * model.n_subs[q_cat]).astype(np.int64) % model.subs.shape[1]
    ]
    comp = model.comps[
        q_cat, np.floor(u * model.n_comps[q_cat]).astype(np.int64) % model.comps.shape[1]
    ]
    rand_cat = rng.integers(0, k, m)
    c_cat = np.select(
        [source == 0, (source == 1) & (sub >= 0), (source == 2) & (comp >= 0)],
        [q_cat, sub, comp],
        default=rand_cat,
    )
    c_city = city[c_req]
    pool_u = rng.random(m)
    c_item = it.order[
        it.pool_start[c_city, c_cat]
        + np.floor(pool_u * it.pool_size[c_city, c_cat]).astype(np.int64)
    ]
    c_user = local[c_req]
    regular = users.regulars[c_user, rng.integers(0, users.regulars.shape[1], m)]
    use_regular = (source == 3) & (c_city == users.city[c_user])
    city_item = it.order[
        it.city_start[c_city] + np.floor(pool_u * it.city_size[c_city]).astype(np.int64)
    ]
    c_item = np.select([use_regular, source == 4], [regular, city_item], default=c_item)
    # Fallback: MIN_SHOWN consecutive items of the city pool at the end of every list, so each
    # request has enough distinct candidates even in a small catalog.
    fb_req = np.repeat(np.arange(r), MIN_SHOWN)
    fb_off = (
        rng.integers(0, 1 << 30, r)[fb_req] + np.tile(np.arange(MIN_SHOWN), r)
    ) % it.city_size[city[fb_req]]
    c_req = np.concatenate([c_req, fb_req])
    c_item = np.concatenate([c_item, it.order[it.city_start[city[fb_req]] + fb_off]])
    c_user = local[c_req]
    order_in = np.argsort(c_req, kind="stable")
    c_req, c_item, c_user = c_req[order_in], c_item[order_in], c_user[order_in]
    _, keep = np.unique(c_req * len(it.price) + c_item, return_index=True)  # first occurrence
    keep.sort()
    c_req, c_item, c_user = c_req[keep], c_item[keep], c_user[keep]

    # --- latent relevance (ESCI) ---------------------------------------------------------------
    i_cat = it.category[c_item]
    q_cat = cat[c_req]
    q_cap, q_feat = cap[c_req], feature[c_req]
    price_ok = (q_cap < 0) | (it.price[c_item] <= q_cap)
    feat_ok = (q_feat < 0) | ((it.features[c_item] >> np.maximum(q_feat, 0)) & 1).astype(bool)
    same_group = model.cat_group[i_cat] == model.cat_group[q_cat]
    complement = model.comp_group[model.cat_group[q_cat], model.cat_group[i_cat]]
    exact = i_cat == q_cat
    why = np.select(
        [exact & price_ok & feat_ok, exact & ~price_ok, exact, same_group, complement],
        [0, 1, 2, 3, 4],
        default=5,
    )
    rel = np.array([3, 2, 2, 2, 1, 0])[why]

    # --- ranking: a noisy platform score; show the top n_imp ----------------------------------
    taste = np.minimum(users.pref[c_user, i_cat] * k, 3.0)
    is_regular = (users.regulars[c_user] == c_item[:, None]).any(axis=1)
    score = (
        0.9 * rel
        + 0.35 * it.quality[c_item]
        + 0.4 * taste
        + 0.6 * is_regular
        + rng.normal(0, 0.9, len(c_item))
    )
    ranked = np.lexsort((-score, c_req))
    c_req, c_item, rel, why, taste, is_regular = (
        a[ranked] for a in (c_req, c_item, rel, why, taste, is_regular)
    )
    rank = np.arange(len(c_req)) - np.searchsorted(c_req, c_req, side="left")
    shown = rank < n_imp[c_req]
    imp_req, imp_item, imp_rel, imp_why = c_req[shown], c_item[shown], rel[shown], why[shown]
    taste, is_regular = taste[shown], is_regular[shown]
    imp_pos = (rank[shown] + 1).astype(np.int32)
    imp_ts = ts[imp_req] + (rng.integers(120, 900, r) * 1000)[imp_req]

    # --- behaviour: position-biased clicks, then carts, favourites and orders -----------------
    s = len(imp_req)
    quality = it.quality[imp_item]
    examine = (1.0 / imp_pos) ** 0.65
    attract = 1 / (
        1 + np.exp(-(-4.0 + 0.8 * imp_rel + 0.4 * taste + 0.25 * quality + 0.9 * is_regular))
    )
    click = rng.random(s) < examine * attract
    cart = click & (rng.random(s) < d.cart_rate * (0.55 + 0.15 * imp_rel))
    fav = click & (rng.random(s) < 0.04 + 0.03 * is_regular)
    price = it.price[imp_item]
    over = np.maximum(0.0, price / model.median_price[it.category[imp_item]] - 1.0)
    deterred = np.exp(-SENSITIVITY_STRENGTH[users.sensitivity[local[imp_req]]] * over)
    p_order = (
        np.where(cart, 0.55, d.direct_order_rate)
        * deterred
        * np.array([0.25, 0.55, 0.85, 1.0])[imp_rel]
    )
    order_ = click & (rng.random(s) < p_order)
    qty = rng.integers(d.quantity[0], d.quantity[1] + 1, s)
    fee = np.round(rng.uniform(d.extra_fee[0], d.extra_fee[1], s) * 2) / 2
    t_click = ts[imp_req] + ((3 + rng.exponential(25, s) + 2 * imp_pos) * US).astype(np.int64)
    t_cart = t_click + ((4 + rng.exponential(30, s)) * US).astype(np.int64)
    t_fav = t_click + ((1 + rng.exponential(15, s)) * US).astype(np.int64)
    t_order = np.where(cart, t_cart, t_click) + ((15 + rng.exponential(90, s)) * US).astype(
        np.int64
    )
    masks = (click, cart, fav, order_)
    times = (t_click, t_cart, t_fav, t_order)
    amounts = (
        np.full(s, np.nan),
        np.round(price * qty, 2),
        np.full(s, np.nan),
        np.round(price * qty + fee, 2),
    )
    ev_idx = np.concatenate([np.flatnonzero(mk) for mk in masks])
    ev_type = np.concatenate([np.full(mk.sum(), t, dtype=np.int8) for t, mk in enumerate(masks)])
    ev_ts = np.concatenate([tm[mk] for tm, mk in zip(times, masks, strict=True)])
    ev_amount = np.concatenate([a[mk] for a, mk in zip(amounts, masks, strict=True)])
    ev_order = np.lexsort((ev_type, ev_ts, imp_req[ev_idx]))
    ev_idx, ev_type, ev_ts, ev_amount = (a[ev_order] for a in (ev_idx, ev_type, ev_ts, ev_amount))

    # --- agent sessions retrieve the top of the list ------------------------------------------
    retrieved = np.where(agent, np.minimum(n_imp, rng.integers(3, 11, r)), 0)
    ann_imp, ann_label, ann_expert = annotate_block(
        imp_rel, cfg.seed, d.name, users.block, annotation_quota, cfg.second_annotator_share
    )

    return BlockLogs(
        req_user=users.index[local],
        req_seq=seq,
        req_ts=ts,
        req_cat=cat,
        req_zh=zh,
        req_city=city,
        req_district=district,
        req_lat=lat,
        req_lon=lon,
        req_scene=scene,
        req_channel=channel,
        req_word=word,
        req_verb=verb,
        req_feature=feature,
        req_cap=cap,
        req_loc=loc,
        req_retrieved=retrieved,
        imp_req=imp_req,
        imp_item=imp_item,
        imp_pos=imp_pos,
        imp_ts=imp_ts,
        imp_rel=imp_rel,
        imp_why=imp_why,
        ev_req=imp_req[ev_idx],
        ev_item=imp_item[ev_idx],
        ev_ts=ev_ts,
        ev_type=ev_type,
        ev_amount=ev_amount,
        ann_imp=ann_imp,
        ann_label=ann_label,
        ann_expert=ann_expert,
    )
