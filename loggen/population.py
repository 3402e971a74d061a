"""Users: who they are (the same people in every domain) and what they like (per domain).

Demographics come from a random stream keyed by the user block only, so user U00000042 has the
same city, age and language in the hotel logs as in the food logs. Tastes are per domain: a latent
category preference (Dirichlet), an activity rate (heavy and light users), a price sensitivity, and
a few "regular" items the user keeps coming back to, which give histories across days.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import polars as pl

from core.ids import derive_seed
from loggen.catalog import (
    AGE_BANDS,
    AGE_WEIGHTS,
    CITIES,
    CITY_WEIGHTS,
    GENDER_WEIGHTS,
    GENDERS,
    MEMBER_LEVELS,
    MEMBER_WEIGHTS,
    PRICE_SENSITIVITY,
    Domain,
)
from loggen.config import USER_BLOCK
from loggen.items import ItemCatalog

REGULARS = 3  # regular items per user
SENSITIVITY_WEIGHTS = (0.35, 0.45, 0.20)
SENSITIVITY_STRENGTH = np.array([1.6, 0.7, 0.2])  # how much prices above typical deter an order


@dataclass(frozen=True)
class UserBlock:
    block: int
    index: np.ndarray  # global user index
    city: np.ndarray
    zh: np.ndarray  # bool: app language is Chinese
    age: np.ndarray
    gender: np.ndarray
    member: np.ndarray
    pref: np.ndarray  # (n, categories), rows sum to 1
    activity: np.ndarray  # multiplier of the domain's request rate
    sensitivity: np.ndarray  # index into PRICE_SENSITIVITY
    regulars: np.ndarray  # (n, REGULARS) item indices in the user's city

    def __len__(self) -> int:
        return len(self.index)


def make_user_block(
    domain: Domain, items: ItemCatalog, n_users: int, block: int, seed: int, zh_share: float
) -> UserBlock:
    first = block * USER_BLOCK
    n = min(USER_BLOCK, n_users - first)
    if n <= 0:
        raise ValueError(f"user block {block} is past the last user ({n_users} users)")
    who = np.random.default_rng(derive_seed(seed, "users", block))
    city = who.choice(len(CITIES), n, p=np.asarray(CITY_WEIGHTS))
    age = who.choice(len(AGE_BANDS), n, p=np.asarray(AGE_WEIGHTS))
    gender = who.choice(len(GENDERS), n, p=np.asarray(GENDER_WEIGHTS))
    member = who.choice(len(MEMBER_LEVELS), n, p=np.asarray(MEMBER_WEIGHTS))
    zh = who.random(n) < zh_share

    taste = np.random.default_rng(derive_seed(seed, domain.name, "users", block))
    k = len(domain.categories)
    pref = taste.dirichlet(np.full(k, 0.5), n)
    activity = taste.lognormal(-0.3, 0.8, n)  # mean ~1, long tail of heavy users
    sensitivity = taste.choice(3, n, p=np.asarray(SENSITIVITY_WEIGHTS))
    # Regulars: favourite categories first, then any item of the user's city.
    fav_cat = _sample_rows(pref, taste.random((n, REGULARS)))
    start = items.pool_start[city[:, None], fav_cat]
    size = items.pool_size[city[:, None], fav_cat]
    regulars = items.order[start + np.floor(taste.random((n, REGULARS)) * size).astype(np.int64)]
    return UserBlock(
        block=block,
        index=np.arange(first, first + n),
        city=city,
        zh=zh,
        age=age,
        gender=gender,
        member=member,
        pref=pref,
        activity=activity,
        sensitivity=sensitivity,
        regulars=regulars,
    )


def _sample_rows(prob: np.ndarray, u: np.ndarray) -> np.ndarray:
    """For each row r of `prob` and each column of `u`, a category drawn from prob[r]."""
    cum = np.cumsum(prob, axis=1)
    picks = (cum[:, None, :] < u[:, :, None]).sum(axis=2)
    return np.minimum(picks, prob.shape[1] - 1)


def user_id_expr(column: str = "user_idx") -> pl.Expr:
    """Global user index -> user id `U00000042` (the same person in every domain)."""
    return pl.concat_str([pl.lit("U"), pl.col(column).cast(pl.String).str.zfill(8)])


def users_frame(domain: Domain, blocks: list[UserBlock]) -> pl.DataFrame:
    """The contract `users` table for these blocks; preferences as JSON in the user's language."""
    idx = np.concatenate([b.index for b in blocks])
    zh = np.concatenate([b.zh for b in blocks])
    pref = np.concatenate([b.pref for b in blocks])
    top = np.argsort(-pref, axis=1, kind="stable")[:, :3]
    names_zh = np.array([c.name[0] for c in domain.categories], dtype=object)
    names_en = np.array([c.name[1] for c in domain.categories], dtype=object)
    favorites = np.where(zh[:, None], names_zh[top], names_en[top]).tolist()
    frame = pl.DataFrame(
        {
            "user_idx": idx,
            "city": np.array([c[0] for c in CITIES])[np.concatenate([b.city for b in blocks])],
            "age_band": np.array(AGE_BANDS)[np.concatenate([b.age for b in blocks])],
            "gender": np.array(GENDERS)[np.concatenate([b.gender for b in blocks])],
            "member_level": np.array(MEMBER_LEVELS)[np.concatenate([b.member for b in blocks])],
            "lang": np.where(zh, "zh", "en"),
            "favorite_categories": favorites,
            "price_sensitivity": np.array(PRICE_SENSITIVITY)[
                np.concatenate([b.sensitivity for b in blocks])
            ],
        },
        schema_overrides={"favorite_categories": pl.List(pl.String)},
    )
    return frame.select(
        user_id_expr().alias("user_id"),
        "city",
        "age_band",
        "gender",
        "member_level",
        pl.struct("lang", "favorite_categories", "price_sensitivity")
        .struct.json_encode()
        .alias("preferences"),
    )
