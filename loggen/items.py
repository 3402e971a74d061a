"""A domain's item catalog: the `items` table plus the latent arrays the funnel simulates with.

Each item has a primary language (its title, category, tags and description are written in it) and
carries its name in both languages in `attributes`. Latent facts (category index, city, feature
bits, quality) stay as numpy arrays so that relevance and ranking are computed vectorized.
"""

from __future__ import annotations

import json
from dataclasses import dataclass

import numpy as np
import polars as pl

from core.ids import derive_seed
from loggen.catalog import CITIES, CITY_WEIGHTS, Domain

ITEM_LANG_ZH = 0.6  # share of items listed in Chinese
MIN_POOL = 3  # items per (city, category) at least, so every request finds candidates


@dataclass(frozen=True)
class ItemCatalog:
    frame: pl.DataFrame  # the contract `items` table
    ids: pl.Series  # item_id by item index
    category: np.ndarray  # int: index into domain.categories
    group: np.ndarray  # int: index of the category's group
    city: np.ndarray  # int: index into CITIES
    price: np.ndarray
    quality: np.ndarray  # standard-normal latent quality
    features: np.ndarray  # int bitmask over domain.features
    # Items sorted by (city, category) with offsets: pool of (c, k) = order[start[c,k]:+size[c,k]].
    order: np.ndarray
    pool_start: np.ndarray  # (cities, categories)
    pool_size: np.ndarray
    city_start: np.ndarray  # items sorted by city: order[city_start[c]:+city_size[c]]
    city_size: np.ndarray


def group_index(domain: Domain) -> tuple[list[str], np.ndarray]:
    groups = sorted({c.group for c in domain.categories})
    return groups, np.array([groups.index(c.group) for c in domain.categories])


def _round_price(p: np.ndarray) -> np.ndarray:
    return np.where(p < 100, np.round(p * 2) / 2, np.round(p))


def build_items(domain: Domain, n_items: int, seed: int) -> ItemCatalog:
    rng = np.random.default_rng(derive_seed(seed, domain.name, "items"))
    n_cities, n_cats = len(CITIES), len(domain.categories)
    base = n_cities * n_cats * MIN_POOL
    if n_items < base:
        raise ValueError(
            f"{domain.name}: need at least {base} items to stock every city and category"
        )
    # The first `base` items stock every (city, category) pool; the rest follow popularity.
    cat_pop = rng.dirichlet(np.full(n_cats, 4.0))
    city = np.concatenate(
        [
            np.repeat(np.arange(n_cities), n_cats * MIN_POOL),
            rng.choice(n_cities, n_items - base, p=np.asarray(CITY_WEIGHTS)),
        ]
    )
    category = np.concatenate(
        [
            np.tile(np.arange(n_cats), n_cities * MIN_POOL),
            rng.choice(n_cats, n_items - base, p=cat_pop),
        ]
    )
    _, group_of_cat = group_index(domain)
    lo = np.array([c.price[0] for c in domain.categories])[category]
    hi = np.array([c.price[1] for c in domain.categories])[category]
    price = _round_price(lo * np.exp(rng.beta(2.0, 2.0, n_items) * np.log(hi / lo)))
    quality = rng.standard_normal(n_items)
    rating = np.clip(np.round(4.1 + 0.35 * quality + rng.normal(0, 0.15, n_items), 1), 2.5, 5.0)
    review_count = np.floor(rng.lognormal(4.0 + 0.6 * quality, 1.0)).astype(np.int64)
    feat_share = np.array([f.share for f in domain.features])
    applies = np.array(domain.feature_applies())[category]
    feat_bits = ((rng.random((n_items, len(domain.features))) < feat_share) & applies).astype(
        np.int64
    )
    features = (feat_bits << np.arange(len(domain.features))).sum(axis=1)
    is_zh = rng.random(n_items) < ITEM_LANG_ZH
    district = np.floor(rng.random(n_items) * np.array([len(CITIES[c][2]) for c in city])).astype(
        int
    )
    centre = np.array([CITIES[c][3] for c in city])
    lat = np.round(centre[:, 0] + rng.normal(0, 0.035, n_items), 6)
    lon = np.round(centre[:, 1] + rng.normal(0, 0.04, n_items), 6)
    prefix = rng.integers(0, len(domain.prefixes), n_items)
    noun_u, hours_u, extra_u = rng.random(n_items), rng.random(n_items), rng.random(n_items)
    detail_keys = rng.random((n_items, 8))  # ranks choose 2-4 details and 2 tags per item
    n_details = rng.integers(2, 5, n_items)

    code = domain.code
    ids = [f"{code}-i{i:07d}" for i in range(n_items)]
    rows: dict[str, list] = {
        k: []
        for k in (
            "title",
            "category",
            "description",
            "tags",
            "district",
            "opening_hours",
            "attributes",
        )
    }
    for i in range(n_items):  # one pass per catalog item (thousands), not per event
        cat = domain.categories[category[i]]
        lang = 0 if is_zh[i] else 1
        city_name, city_pair, districts, _ = CITIES[city[i]]
        dist_key, dist_pair = districts[district[i]]
        noun = cat.nouns[int(noun_u[i] * len(cat.nouns))]
        pre = domain.prefixes[prefix[i]]
        titles = [domain.title_format[j].format(p=pre[j], n=noun[j]) for j in (0, 1)]
        if domain.name != "grocery":  # shops, hotels and cinemas are branches
            titles = [f"{titles[0]}({dist_pair[0]}店)", f"{titles[1]} ({dist_pair[1]})"]
        order = np.argsort(detail_keys[i, : len(cat.details)])
        details = [cat.details[j][lang] for j in order[: min(n_details[i], len(cat.details))]]
        feats = [f for b, f in enumerate(domain.features) if features[i] >> b & 1]
        tag_order = np.argsort(detail_keys[i, -len(cat.tags) :])
        tags = [cat.tags[j][lang] for j in tag_order[:2]] + [f.name[lang] for f in feats]
        hours = cat.hours[int(hours_u[i] * len(cat.hours))]
        if any(f.key in ("late_night", "open_late") for f in feats):
            hours = hours.split("-")[0] + "-02:00"
        attrs = {
            "lang": "zh" if lang == 0 else "en",
            "title_zh": titles[0],
            "title_en": titles[1],
            domain.detail_key: details,
            "features": [f.key for f in feats],
        }
        attrs.update(_domain_facts(domain.name, extra_u[i], price[i]))
        label = domain.detail_label[lang]
        if lang == 0:
            desc = (
                f"{city_pair[0]}{dist_pair[0]}·{cat.name[0]}。{label}：{'、'.join(details)}。"
                f"评分{rating[i]:.1f}，约¥{price[i]:g}。"
            )
        else:
            desc = (
                f"{cat.name[1]} in {dist_pair[1]}, {city_pair[1]}. {label}: {', '.join(details)}. "
                f"Rated {rating[i]:.1f}, about ¥{price[i]:g}."
            )
        rows["title"].append(titles[lang])
        rows["category"].append(cat.name[lang])
        rows["description"].append(desc)
        rows["tags"].append(tags)
        rows["district"].append(dist_key)
        rows["opening_hours"].append(hours)
        rows["attributes"].append(json.dumps(attrs, ensure_ascii=False, sort_keys=True))
    frame = pl.DataFrame(
        {
            "item_id": ids,
            "title": rows["title"],
            "category": rows["category"],
            "price": price.astype(np.float64),
            "description": rows["description"],
            "tags": rows["tags"],
            "rating": rating.astype(np.float64),
            "review_count": review_count,
            "city": [CITIES[c][0] for c in city],
            "district": rows["district"],
            "lat": lat,
            "lon": lon,
            "opening_hours": rows["opening_hours"],
            "attributes": rows["attributes"],
        },
        schema_overrides={"tags": pl.List(pl.String)},
    )
    order = np.lexsort((np.arange(n_items), category, city))
    flat = city[order] * n_cats + category[order]
    counts = np.bincount(flat, minlength=n_cities * n_cats)
    starts = np.concatenate([[0], np.cumsum(counts)[:-1]])
    city_counts = np.bincount(city, minlength=n_cities)
    return ItemCatalog(
        frame=frame,
        ids=frame["item_id"],
        category=category,
        group=group_of_cat[category],
        city=city,
        price=price,
        quality=quality,
        features=features,
        order=order,
        pool_start=starts.reshape(n_cities, n_cats),
        pool_size=counts.reshape(n_cities, n_cats),
        city_start=np.concatenate([[0], np.cumsum(city_counts)[:-1]]),
        city_size=city_counts,
    )


def _domain_facts(domain: str, u: float, price: float) -> dict:
    """A few checkable per-item facts an agent can state (and misstate)."""
    if domain == "food_delivery":
        return {"delivery_minutes": 20 + int(u * 35), "min_order": float(15 + 5 * int(u * 4))}
    if domain == "hotel":
        stars = 2 + int(price >= 250) + int(price >= 450) + int(price >= 900)
        return {"star_level": stars, "check_in": "14:00", "check_out": "12:00"}
    if domain == "movie_tickets":
        return {"hall_seats": 80 + int(u * 300), "duration_minutes": 90 + int(u * 50)}
    if domain == "grocery":
        return {"stock": int(u * 200), "unit_price_per_kg": round(price * (1 + u), 1)}
    return {"duration_minutes": 30 + 15 * int(u * 8), "therapists": 2 + int(u * 10)}
