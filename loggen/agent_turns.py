"""Synthetic agent transcripts: a system instruction with constraints, and a response built from the
retrieved items that breaks a constraint or misstates an item fact at known rates.

The ground truth (which constraint types a response breaks, which item facts it misstates) is
computed from the generation plan (the chosen items, limits, language and edits), never by parsing
the text back, so the instruction-following verifier and the claim checker are measured against
something they did not produce. Every random choice of a turn comes from a generator seeded by
(build seed, domain, request id): output does not depend on how the caller chunks the requests.
"""

from __future__ import annotations

import json
import math
import random
from dataclasses import dataclass

import polars as pl
import pyarrow as pa

from core.ids import derive_seed, stable_id
from schemas.constraints import (
    EARTH_RADIUS_KM,
    HARD_TYPES,
    LIST_FIELD_LABELS,
    NON_CLAIM_LIST_KEYS,
    TONE_STYLES,
    AnswerRelevance,
    Constraint,
    ForbiddenContent,
    ItemCount,
    JsonFormat,
    Language,
    MaxDistanceKm,
    MaxLength,
    MaxPrice,
    MustMention,
    Tone,
    constraints_to_json,
    cut_off_json,
    fmt_amount,
    hours_ranges,
    list_attributes,
    name_aliases,
)


@dataclass(frozen=True)
class AgentErrorRates:
    constraint_violation: float = 0.25  # share of turns whose response breaks >= 1 constraint
    misstatement: float = 0.20  # share of turns whose response misstates >= 1 item fact


TURN_SCHEMA = {
    "turn_id": pl.String,
    "request_id": pl.String,
    "instruction": pl.String,
    "response": pl.String,
    "retrieved_item_ids": pl.List(pl.String),
    "constraints": pl.String,
    "model": pl.String,
    "latency_ms": pl.Int64,
}
TRUTH_SCHEMA = {
    "turn_id": pl.String,
    "violated_constraints": pl.List(pl.String),
    "misstated": pl.List(pl.Struct({"item_id": pl.String, "field": pl.String})),
}

MODELS = ("qwen2.5-14b-instruct-agent", "glm-4-9b-chat-agent", "longcat-flash-agent")
FORBIDDEN_WORDS = {
    "zh": ("最便宜", "绝对", "保证", "全网最低", "第一名", "必吃"),
    "en": ("guaranteed", "cheapest", "best ever", "number one", "must-try", "unbeatable"),
}
_ALL_FORBIDDEN = FORBIDDEN_WORDS["zh"] + FORBIDDEN_WORDS["en"]
_PREAMBLE = {
    "zh": "你是本地生活平台的{domain}推荐助手。请只根据检索工具返回的结果回答用户的需求。\n请遵守以下规则：",
    "en": "You are the {domain} shopping assistant of a local-services app. Answer the user's "
    "request using only what your search tool returned.\nFollow these rules:",
}
# The agent's wording. Every response, compliant or not, draws its sentences from these pools at
# the same rates: what makes a response wrong is its violation (a forbidden word, the wrong items,
# the wrong length or values), never a sentence only wrong responses hold. No text here holds a
# digit, a colon or a fact word the claim checker reads (price, rating, hours, category).
_OPENINGS = {
    "zh": (
        "为您找到以下推荐：",
        "根据您的需求，推荐如下：",
        "以下是几个不错的选择：",
        "帮您挑了几家：",
        "看看这几家是否合适：",
        "结合您的要求，整理如下：",
        "这几家比较符合您的需求：",
        "给您推荐这些：",
    ),
    "en": (
        "Here are some options for you:",
        "Based on your request, I recommend:",
        "A few good picks:",
        "These might suit you:",
        "I found these for you:",
        "Here is what fits your request:",
        "Take a look at these:",
        "Some places worth a look:",
    ),
}
_CLOSINGS = {
    "zh": (
        "希望对您有帮助！",
        "如需更多选择，随时告诉我。",
        "祝您体验愉快。",
        "有其他需要可以再问我。",
        "想换个口味或区域也可以告诉我。",
        "祝您用餐和出行顺利。",
        "如有变化，以商家实时信息为准。",
        "需要帮您比较一下也可以说。",
    ),
    "en": (
        "Hope this helps!",
        "Let me know if you want more options.",
        "Enjoy!",
        "Ask me if you need anything else.",
        "Happy to narrow it down further.",
        "Have a great time.",
        "Details may change, so check before you go.",
        "Tell me if you want a comparison.",
    ),
}
_REASONS = {
    "zh": (
        "环境干净，适合朋友聚会。",
        "品质稳定，回头客多。",
        "性价比高，评价不错。",
        "位置方便，交通便利。",
        "服务贴心，口碑很好。",
        "响应快，很省心。",
        "氛围安静，适合独处。",
        "物有所值，很实在。",
        "老店了，做得很用心。",
        "周边停车方便。",
        "适合带家人一起去。",
        "高峰时段可能要排队。",
        "最近评价上升很快。",
        "细节做得不错，体验舒服。",
    ),
    "en": (
        "Clean and cozy, good for groups.",
        "Consistent quality with many repeat customers.",
        "Good value and well reviewed.",
        "Easy to get to.",
        "Friendly service and a solid reputation.",
        "Quick to respond, no hassle.",
        "Quiet and relaxed.",
        "Worth the money.",
        "A long-running place that takes care over details.",
        "Parking nearby is easy.",
        "Good for a family outing.",
        "Expect a queue at peak times.",
        "Reviews have been improving lately.",
        "Comfortable, with attention to detail.",
    ),
}
# A remark quoting praise, {w} a word from FORBIDDEN_WORDS: any response may carry one (a
# compliant one with a word its instruction does not forbid); breaking a forbidden-content rule
# is writing one with a forbidden word.
_REMARKS = {
    "zh": (
        "不少人说它{w}。",
        "评论里常见“{w}”的说法。",
        "有人评价“{w}”。",
        "老顾客都说{w}。",
        "被不少人称作{w}。",
        "店家自称{w}。",
        "朋友推荐时说是{w}。",
        "网上有“{w}”的说法。",
        "常被形容为{w}。",
        "榜单上写着{w}。",
    ),
    "en": (
        "Many say it is {w}.",
        "Reviewers call it {w}.",
        "Often described as {w}.",
        "Regulars say it is {w}.",
        "Some call it {w}.",
        "The owner bills it as {w}.",
        "Locals rate it {w}.",
        "Online it is called {w}.",
        "Friends describe it as {w}.",
        "Ranked as {w} in a local list.",
    ),
}
REMARK_RATE = 0.55  # share of responses with at least one remark, whatever their label


class _Rng(random.Random):
    """Mersenne Twister with choices drawn from `random()` alone: several times faster than the
    stdlib's rejection sampling, and just as deterministic."""

    def choice(self, seq):
        return seq[int(self.random() * len(seq))]

    def randint(self, a: int, b: int) -> int:
        return a + int(self.random() * (b - a + 1))

    def randrange(self, n: int) -> int:
        return int(self.random() * n)

    def shuffle(self, x: list) -> None:
        rand = self.random
        for i in range(len(x) - 1, 0, -1):
            j = int(rand() * (i + 1))
            x[i], x[j] = x[j], x[i]

    def sample(self, population, k: int) -> list:
        pool = list(population)
        rand = self.random
        n = len(pool)
        for i in range(k):
            j = i + int(rand() * (n - i))
            pool[i], pool[j] = pool[j], pool[i]
        return pool[:k]


@dataclass
class _Item:
    item_id: str
    title: str
    category: str | None
    price: float | None
    rating: float | None
    lat: float | None
    lon: float | None
    hours: tuple[str, ...]
    lists: dict[str, list[str]]
    bad_words: frozenset[str]  # forbidden-word candidates its own text contains
    names: frozenset[str]  # casefolded title and other-language names (attributes title_xx)


def _opt(frame: pl.DataFrame, name: str) -> list:
    return frame[name].to_list() if name in frame.columns else [None] * frame.height


def _catalog(items: pl.DataFrame) -> tuple[dict[str, _Item], list[str], dict[str, list[str]]]:
    for col in ("item_id", "title", "category", "price"):
        if col not in items.columns:
            raise ValueError(f"make_agent_turns: items lacks required column {col!r}")
    catalog: dict[str, _Item] = {}
    categories: dict[str, None] = {}
    list_values: dict[str, dict[str, None]] = {}
    for iid, title, cat, price, rating, lat, lon, hours, attrs in zip(
        items["item_id"].to_list(),
        items["title"].to_list(),
        items["category"].to_list(),
        items["price"].to_list(),
        _opt(items, "rating"),
        _opt(items, "lat"),
        _opt(items, "lon"),
        _opt(items, "opening_hours"),
        _opt(items, "attributes"),
        strict=True,
    ):
        lists = list_attributes(attrs)
        text = " ".join([str(title), str(cat or "")] + [v for vs in lists.values() for v in vs])
        text = text.lower()
        bad = frozenset(w for w in _ALL_FORBIDDEN if w.lower() in text)
        names = frozenset([str(title).casefold(), *(n.casefold() for n in name_aliases(attrs))])
        catalog[iid] = _Item(
            iid, str(title), cat, price, rating, lat, lon, hours_ranges(hours), lists, bad, names
        )
        if cat:
            categories[cat] = None
        for key, values in lists.items():
            list_values.setdefault(key, {}).update(dict.fromkeys(values))
    return catalog, list(categories), {k: list(v) for k, v in list_values.items()}


def make_agent_turns(
    requests: pl.DataFrame,
    retrieved: pl.DataFrame,
    items: pl.DataFrame,
    domain: str,
    seed: int,
    rates: AgentErrorRates,
    translations: dict[str, str] | None = None,
) -> tuple[pl.DataFrame, pl.DataFrame]:
    """requests: request_id, user_id, ts, query, lang ('zh'|'en'), lat, lon (nullable floats)
    retrieved: request_id, item_ids (list[str], retrieval order, 3-10 ids)
    items: the domain's items table exactly as the generator writes it (contract columns)
    translations: item categories -> the same category in the other language (both ways); a
        response in the other language than an item's category may write it translated, and a
        misstated category is never the translation of the true one
    returns (agent_turns, truth):
      agent_turns: contract columns turn_id, request_id, instruction, response,
                   retrieved_item_ids (list[str]), constraints (JSON text), model, latency_ms
      truth: turn_id, violated_constraints (list[str] of constraint types the response breaks),
             misstated (list[struct{item_id: str, field: str}] of item facts it misstates)"""
    for col in ("request_id", "lang"):
        if col not in requests.columns:
            raise ValueError(f"make_agent_turns: requests lacks column {col!r}")
    for col in ("request_id", "item_ids"):
        if col not in retrieved.columns:
            raise ValueError(f"make_agent_turns: retrieved lacks column {col!r}")
    for name, rate in (
        ("constraint_violation", rates.constraint_violation),
        ("misstatement", rates.misstatement),
    ):
        if not 0.0 <= rate <= 1.0:
            raise ValueError(f"AgentErrorRates.{name} must be in [0, 1], got {rate}")
    catalog, categories, list_values = _catalog(items)
    req_cols = ["request_id", "lang"] + [c for c in ("lat", "lon") if c in requests.columns]
    joined = retrieved.select("request_id", "item_ids").join(
        requests.select(req_cols), on="request_id", how="left", maintain_order="left"
    )
    turns: list[tuple] = []
    truths: list[tuple] = []
    titles = sorted({it.title for it in catalog.values()})
    ctx = _Context(
        domain,
        categories,
        list_values,
        rates,
        dict(translations or {}),
        [t for t in titles if _is_cjk(t)],
        [t for t in titles if not _is_cjk(t)],
    )
    for rid, ids, lang, dist in zip(
        joined["request_id"].to_list(),
        joined["item_ids"].to_list(),
        joined["lang"].to_list(),
        _distances(joined, items),
        strict=True,
    ):
        if lang not in ("zh", "en"):
            raise ValueError(
                f"make_agent_turns: request {rid!r} has lang {lang!r} (or is missing from requests); "
                "expected 'zh' or 'en'"
            )
        if not ids:
            raise ValueError(f"make_agent_turns: request {rid!r} has no retrieved items")
        missing = [i for i in ids if i not in catalog]
        if missing:
            raise ValueError(
                f"make_agent_turns: request {rid!r} retrieved unknown items {missing[:3]}"
            )
        rng = _Rng(derive_seed(seed, "agent_turn", domain, rid))
        turn, truth = _make_turn(rng, ctx, rid, ids, [catalog[i] for i in ids], lang, dist)
        turns.append(turn)
        truths.append(truth)
    return _frame(turns, TURN_SCHEMA), _frame(truths, TRUTH_SCHEMA)


def _frame(rows: list[tuple], schema: dict) -> pl.DataFrame:
    """Rows to a typed frame through Arrow (polars' own row builder is slow on nested lists)."""
    arrow_schema = pl.DataFrame(schema=schema).to_arrow().schema
    columns = [
        pa.array([row[j] for row in rows], type=field.type) for j, field in enumerate(arrow_schema)
    ]
    return pl.from_arrow(pa.Table.from_arrays(columns, schema=arrow_schema))


def _distances(joined: pl.DataFrame, items: pl.DataFrame) -> list[list[float | None]]:
    """Great-circle km (3 decimals) from each request's position to each retrieved item (null when
    unknown)."""
    if not {"lat", "lon"} <= set(joined.columns) or not {"lat", "lon"} <= set(items.columns):
        return [[None] * len(ids) for ids in joined["item_ids"].to_list()]
    geo = items.select("item_id", pl.col("lat").alias("_ilat"), pl.col("lon").alias("_ilon"))
    rad = math.pi / 180
    lat1, lat2 = pl.col("lat") * rad, pl.col("_ilat") * rad
    dlat, dlon = lat2 - lat1, (pl.col("_ilon") - pl.col("lon")) * rad
    a = (dlat / 2).sin() ** 2 + lat1.cos() * lat2.cos() * (dlon / 2).sin() ** 2
    km = 2 * EARTH_RADIUS_KM * a.clip(upper_bound=1.0).sqrt().arcsin()
    out = (
        joined.select(pl.int_range(pl.len()).alias("_row"), "item_ids", "lat", "lon")
        .explode("item_ids")
        .join(geo, left_on="item_ids", right_on="item_id", how="left", maintain_order="left")
        .group_by("_row", maintain_order=True)
        .agg(km.round(3).alias("km"))  # tools report 3 decimals (as evidence does)
    )
    return out["km"].to_list()


@dataclass
class _Context:
    domain: str
    categories: list[str]
    list_values: dict[str, list[str]]
    rates: AgentErrorRates
    translations: dict[str, str]  # category -> the same category in the other language
    titles_cjk: list[str]  # the domain's item titles, by script (renaming draws from them)
    titles_latin: list[str]


@dataclass
class _Line:
    """One recommended item as the response will render it."""

    item: _Item
    name: str
    distance: float | None
    price: float | None
    rating: float | None
    category: str | None
    hours: tuple[str, ...]
    list_key: str | None
    list_value: list[str] | None
    reason: str
    remark: str = ""  # a quoted praise after the reason (`_add_remarks`)

    @property
    def comment(self) -> str:
        return self.reason + self.remark


def _round_up(x: float, step: float) -> float:
    return math.ceil(x / step - 1e-9) * step


def _limit_between(low: float, high: float | None, steps: tuple[float, ...]) -> tuple[float, bool]:
    """A round limit >= low and < high (high None: no upper bound), with at most two decimals;
    second value False when no such limit exists (the limit is then >= high)."""
    for step in steps:
        cand = round(_round_up(low, step), 2)
        if high is None or cand < high:
            return cand, True
    return round(_round_up(low, 0.01), 2), high is None


def _unambiguous(items: list[_Item]) -> list[int]:
    """Indices of the retrieved items a text response can name unambiguously: titles no other
    retrieved item answers to (branches of a chain, or another language's listing of the same
    shop, often do); else first occurrences."""
    counts: dict[str, int] = {}
    for it in items:
        for name in it.names:
            counts[name] = counts.get(name, 0) + 1
    keep = [i for i, it in enumerate(items) if counts[it.title.casefold()] == 1]
    if keep:
        return keep
    seen: set[str] = set()
    return [
        i
        for i, it in enumerate(items)
        if not (it.title.casefold() in seen or seen.add(it.title.casefold()))
    ]


def _make_turn(rng: _Rng, ctx: _Context, rid, ids, items, lang, dist):
    r = rng.random
    keep = _unambiguous(items)
    if len(keep) < len(items):
        items, dist = [items[i] for i in keep], [dist[i] for i in keep]
    other = "en" if lang == "zh" else "zh"
    n_items = len(items)

    # -- which constraints the instruction carries ------------------------------------------------
    want = {
        "json_format": r() < 0.35,
        "item_count": r() < 0.6,
        "max_length": r() < 0.35,
        "language": r() < 0.5,
        "forbidden_content": r() < 0.3,
        "max_price": r() < 0.35 and sum(it.price is not None for it in items) >= 2,
        "max_distance_km": r() < 0.3 and all(d is not None for d in dist) and n_items >= 2,
        "must_mention": r() < 0.3,
    }
    tone = rng.choice(TONE_STYLES) if r() < 0.4 else None
    relevance = r() < 0.3
    violator = r() < ctx.rates.constraint_violation
    misstater = r() < ctx.rates.misstatement
    if not any(want.values()):
        want[rng.choice(("language", "max_length", "item_count"))] = True

    # Violations are decided before the limits so the limits can leave room to break them.
    violate: set[str] = set()
    if violator:
        feasible = [t for t in HARD_TYPES if want[t]]
        if not feasible:
            want["max_length"] = True
            feasible = ["max_length"]
        violate.add(rng.choice(feasible))
        if r() < 0.15 and len(feasible) > 1:
            violate.add(rng.choice(feasible))

    price_limit = dist_limit = None
    eligible = list(range(n_items))
    if want["max_price"]:
        priced = sorted((it.price, i) for i, it in enumerate(items) if it.price is not None)
        # cut = how many priced items fall under the limit; leave one above when breaking it.
        top = len(priced) - 1 if "max_price" in violate else len(priced)
        cut = rng.randint(max(1, min(2, top)), top) if top >= 1 else 0
        if cut == 0:
            want["max_price"] = False
            violate.discard("max_price")
        else:
            low = priced[cut - 1][0]
            high = priced[cut][0] if cut < len(priced) else None
            price_limit, separated = _limit_between(low, high, (10.0, 5.0, 1.0, 0.5, 0.01))
            if not separated:  # tied prices: no limit separates them
                violate.discard("max_price")
            eligible = [
                i for i in eligible if items[i].price is not None and items[i].price <= price_limit
            ]
    if want["max_distance_km"]:
        order = sorted((dist[i], i) for i in eligible)
        top = len(order) - 1 if "max_distance_km" in violate else len(order)
        cut = rng.randint(max(1, min(2, top)), top) if top >= 1 else 0
        if cut == 0:
            want["max_distance_km"] = False
            violate.discard("max_distance_km")
        else:
            low = order[cut - 1][0]
            high = order[cut][0] if cut < len(order) else None
            meters = low < 0.9 and r() < 0.5
            steps = (0.05, 0.01) if meters else (1.0, 0.5, 0.1, 0.01)
            dist_limit, separated = _limit_between(low, high, steps)
            if not separated:
                violate.discard("max_distance_km")
            eligible = [i for i in eligible if dist[i] <= dist_limit]
    n_el = len(eligible)

    must = None
    if want["must_mention"]:
        must = rng.choice(eligible)
        if "must_mention" in violate and n_el < 2:
            violate.discard("must_mention")

    count_c = None
    if want["item_count"]:
        if rng.random() < 0.6:
            count_c = ItemCount("exactly", rng.randint(1, max(1, min(5, n_el))))
        else:
            count_c = ItemCount("at_most", rng.randint(1, 4))

    # -- which items the response recommends ------------------------------------------------------
    if count_c is None:
        k = rng.randint(1, min(4, n_el))
    elif count_c.mode == "exactly":
        k = min(count_c.n, n_el)
    else:
        k = rng.randint(1, min(count_c.n, n_el))
    if "item_count" in violate and count_c is not None:
        # A wrong count keeps the number of items a compliant response has and moves the limit
        # instead: a response that breaks the rule by listing more items than compliant ones
        # would be told apart by its length and its extra item names alone.
        k = max(1, min(k, n_el))
        if count_c.mode == "at_most" and k >= 2:
            count_c = ItemCount("at_most", rng.randint(1, k - 1))
        else:
            count_c = ItemCount("exactly", k - 1 if k >= 2 and rng.random() < 0.5 else k + 1)
    k = max(1, min(k, n_el))
    pool = [i for i in eligible if i != must]
    rng.shuffle(pool)
    chosen = ([must] if must is not None else []) + pool
    selected = chosen[:k]
    if "must_mention" in violate and must in selected:
        rest = [i for i in eligible if i not in selected]
        selected.remove(must)
        if rest:
            selected.append(rng.choice(rest))
        elif not selected:
            selected = [i for i in eligible if i != must][:1]
    for ctype, limit_ok in (
        ("max_price", lambda i: items[i].price is not None and items[i].price <= price_limit),
        ("max_distance_km", lambda i: dist[i] is not None and dist[i] <= dist_limit),
    ):
        if ctype in violate:
            over = [i for i in range(n_items) if not limit_ok(i) and i not in selected]
            if not over:
                violate.discard(ctype)
                continue
            swap = [j for j, i in enumerate(selected) if i != must]
            if swap:
                selected[rng.choice(swap)] = rng.choice(over)
            else:
                selected.append(rng.choice(over))
    selected.sort()  # retrieval order

    # -- what the response says about each item ---------------------------------------------------
    json_mode = want["json_format"]
    show = {
        "category": r() < 0.5,
        "price": r() < 0.75,
        "rating": r() < 0.6,
        "distance": r() < 0.5,
        "opening_hours": r() < 0.35,
        "list": r() < 0.45,
    }
    render_lang = other if "language" in violate else lang
    lines = []
    for i in selected:
        it = items[i]
        list_key = None
        claimable = [k for k in it.lists if k not in NON_CLAIM_LIST_KEYS]
        if show["list"] and claimable:
            list_key = next((k for k in LIST_FIELD_LABELS if k in claimable), None) or min(
                claimable
            )
        list_value = None
        if list_key:
            values = it.lists[list_key]
            list_value = rng.sample(values, min(len(values), rng.randint(1, 3)))
        lines.append(
            _Line(
                item=it,
                name=it.title,
                distance=dist[i] if show["distance"] else None,
                price=it.price if show["price"] else None,
                rating=it.rating if show["rating"] else None,
                category=_category_text(rng, ctx, it.category, render_lang)
                if show["category"]
                else None,
                hours=it.hours if show["opening_hours"] else (),
                list_key=list_key,
                list_value=list_value,
                reason=rng.choice(_REASONS[render_lang]),
            )
        )

    misstated: list[tuple[_Line, str]] = []
    if misstater:
        protected = {
            i
            for i in selected
            if i == must
            or (price_limit is not None and items[i].price > price_limit)
            or (dist_limit is not None and dist[i] > dist_limit)
        }
        misstated = _misstate(rng, ctx, lines, [items[i] for i in protected], items)

    # -- remarks: praise any response may quote; a forbidden word in one breaks the rule ----------
    forbidden = None
    if want["forbidden_content"]:
        seen = frozenset().union(*(it.bad_words for it in items))
        usable = [w for w in FORBIDDEN_WORDS[lang] + FORBIDDEN_WORDS[other] if w not in seen]
        pool_lang = [w for w in usable if w in FORBIDDEN_WORDS[lang]] or usable
        forbidden = tuple(rng.sample(pool_lang, min(2, len(pool_lang))))
    _add_remarks(rng, lines, render_lang, forbidden, "forbidden_content" in violate)

    # -- render ----------------------------------------------------------------------------------
    json_fields = None
    json_drop = json_break = None
    with_ids = False
    if json_mode:
        # Item ids are written when the instruction asks for them, else often but not always: a
        # missing id is then a violation only where it was required, as in any agent's answers.
        id_required = r() < 0.7
        with_ids = id_required or r() < 0.6
        present = (
            (["item_id"] if with_ids else [])
            + ["name"]
            + [
                key
                for key, on in (
                    ("category", show["category"]),
                    ("price", show["price"]),
                    ("rating", show["rating"]),
                    ("distance_km", show["distance"]),
                    ("opening_hours", show["opening_hours"]),
                )
                if on
            ]
            + ["reason"]
        )
        extra = [
            f
            for f in present
            if f not in ("item_id", "name") and all(_json_value(ln, f) is not None for ln in lines)
        ]
        json_fields = ["name"] + rng.sample(extra, rng.randint(0, min(3, len(extra))))
        if id_required:
            json_fields.insert(0, "item_id")
        if "json_format" in violate:
            json_drop, json_break = _json_violation(rng, lines, json_fields, misstated, with_ids)
        text = _render_json(rng, lines, present, render_lang, json_drop, json_break)
    else:
        text = _render_text(rng, lines, render_lang)
    max_len = None
    if want["max_length"]:
        n = len(text)
        if "max_length" in violate:
            max_len = (n - 1) // 50 * 50 if n > 60 else max(5, n // 2)
        else:
            max_len = (n // 50 + 1 + rng.randint(0, 2)) * 50

    # -- the instruction --------------------------------------------------------------------------
    constraints: list[Constraint] = []
    if json_mode:
        constraints.append(JsonFormat(tuple(json_fields)))
    if count_c is not None:
        constraints.append(count_c)
    if max_len is not None:
        constraints.append(MaxLength(max_len))
    if want["language"]:
        constraints.append(Language(lang))
    if forbidden:
        constraints.append(ForbiddenContent(forbidden))
    if price_limit is not None:
        constraints.append(MaxPrice(price_limit))
    if dist_limit is not None:
        constraints.append(MaxDistanceKm(dist_limit))
    if must is not None:
        constraints.append(MustMention((items[must].title,)))
    if tone:
        constraints.append(Tone(tone))
    if relevance:
        constraints.append(AnswerRelevance())
    rules = list(constraints)
    rng.shuffle(rules)
    rule_lines = [f"{j}. {c.describe(lang, rng.randint(0, 1))}" for j, c in enumerate(rules, 1)]
    instruction = (
        _PREAMBLE[lang].format(domain=ctx.domain.replace("_", " ")) + "\n" + "\n".join(rule_lines)
    )

    # -- ground truth from the plan ---------------------------------------------------------------
    lower = text.lower()
    broken = []
    if json_mode and (json_drop or json_break):
        broken.append("json_format")
    if count_c is not None and (
        len(selected) != count_c.n if count_c.mode == "exactly" else len(selected) > count_c.n
    ):
        broken.append("item_count")
    if max_len is not None and len(text) > max_len:
        broken.append("max_length")
    if want["language"] and render_lang != lang:
        broken.append("language")
    if forbidden and any(w.lower() in lower for w in forbidden):
        broken.append("forbidden_content")
    if price_limit is not None and any(items[i].price > price_limit for i in selected):
        broken.append("max_price")
    if dist_limit is not None and any(dist[i] > dist_limit for i in selected):
        broken.append("max_distance_km")
    if must is not None and must not in selected:
        broken.append("must_mention")
    # A renamed item is unrecognizable in text; in JSON its item_id (when written) still names it.
    misstated_truth = [
        {"item_id": ln.item.item_id if f != "name" or with_ids else None, "field": f}
        for ln, f in misstated
    ]
    turn_id = stable_id("agent_turn", ctx.domain, rid)
    latency = int(350 + 6 * len(text) + 900 * r())
    turn = (
        turn_id,
        rid,
        instruction,
        text,
        list(ids),
        constraints_to_json(constraints),
        MODELS[int(r() * len(MODELS))],
        latency,
    )
    return turn, (turn_id, broken, misstated_truth)


def _misstate(rng, ctx, lines, protected, items):
    """Change 1-2 rendered facts to false ones; returns [(line, field)].

    Renaming an item hides which item it is, so the must-mention item and items that break a
    limit keep their names (the truth of those constraints would otherwise depend on the text).
    """
    options = []
    for ln in lines:
        if ln.price is not None:
            options.append((ln, "price"))
        if ln.rating is not None:
            options.append((ln, "rating"))
        if ln.distance is not None:
            options.append((ln, "distance"))
        if ln.hours:
            options.append((ln, "opening_hours"))
        if ln.category is not None and len(ctx.categories) > 1 + (
            ln.item.category in ctx.translations
        ):
            options.append((ln, "category"))
        if ln.list_key and any(
            v not in ln.item.lists[ln.list_key]
            and _is_cjk(v) == _is_cjk("".join(ln.item.lists[ln.list_key]))
            for v in ctx.list_values.get(ln.list_key, ())
        ):
            options.append((ln, ln.list_key))
        if not any(ln.item is p for p in protected):
            options.append((ln, "name"))
    if not options:
        return []
    picks = rng.sample(options, min(len(options), 2 if rng.random() < 0.2 else 1))
    if any(f == "name" for _, f in picks):  # a renamed item's other claims are not checkable
        picks = [p for p in picks if p[1] == "name"][:1]
    done = []
    for ln, field in picks:
        if field == "price":
            factor = rng.choice((rng.uniform(0.45, 0.8), rng.uniform(1.25, 1.9)))
            new = (
                round(ln.price * factor) if ln.price * factor >= 10 else round(ln.price * factor, 1)
            )
            if abs(new - ln.price) < max(1.0, 0.15 * ln.price):
                new = round(ln.price * 1.5 + 5)
            ln.price = float(new)
        elif field == "rating":
            delta = rng.choice((0.5, 0.7, 1.0, 1.3))
            new = ln.rating - delta if ln.rating - delta >= 1.0 else ln.rating + delta
            ln.rating = round(min(5.0, new), 1)
            if abs(ln.rating - ln.item.rating) < 0.3:
                ln.rating = round(
                    ln.item.rating - 1.0 if ln.item.rating > 2 else ln.item.rating + 1.0, 1
                )
        elif field == "distance":
            d = ln.distance
            ln.distance = (
                d * rng.uniform(2.0, 3.5) + 0.6 if rng.random() < 0.7 or d < 1.5 else d * 0.3
            )
        elif field == "opening_hours":
            h = list(ln.hours)
            j = rng.randrange(len(h))
            start, end = h[j].split("-")
            shift = rng.choice((1, 2, 3))
            while True:
                new = f"{(int(start[:2]) + shift) % 24:02d}{start[2:]}-{end}"
                if new not in ln.item.hours:
                    break
                shift += 1
            h[j] = new
            ln.hours = tuple(h)
        elif field == "category":
            # Never the item's own category in the other language: a translation is no error.
            own = {ln.item.category, ctx.translations.get(ln.item.category)}
            ln.category = rng.choice([c for c in ctx.categories if c not in own])
        elif field == "name":
            name = _other_name(rng, ctx, items, _is_cjk(ln.item.title))
            if name is None:
                continue
            ln.name = name
        else:
            actual = set(ln.item.lists[field])
            # Values in the item's own script: one in the other script may translate a true one.
            cjk = _is_cjk("".join(actual))
            foreign = [v for v in ctx.list_values[field] if v not in actual and _is_cjk(v) == cjk]
            value = list(ln.list_value)
            value[rng.randrange(len(value))] = rng.choice(foreign)
            ln.list_value = list(dict.fromkeys(value))
        done.append((ln, field))
    return done


def _category_text(rng, ctx: _Context, category: str | None, lang: str) -> str | None:
    """The category as the response writes it: half the time in the response's language when
    the item's category is in the other one and its translation is known (a translation of the
    true value, not a misstatement)."""
    translated = ctx.translations.get(category) if category is not None else None
    if translated and _is_cjk(category) != (lang == "zh") and rng.random() < 0.5:
        return translated
    return category


def _is_cjk(text: str) -> bool:
    return any("\u4e00" <= ch <= "\u9fff" for ch in text)


def _other_name(rng, ctx: _Context, retrieved: list[_Item], cjk: bool) -> str | None:
    """A real title of another item of the domain, in the renamed item's script, that no retrieved
    item answers to (nor holds, nor is held by): the agent confusing two shops. Invented names
    would be strings only wrong responses hold. None when no such title turns up."""
    names = [n for it in retrieved for n in it.names]
    pool = ctx.titles_cjk if cjk else ctx.titles_latin
    for _ in range(30):
        name = rng.choice(pool)
        low = name.casefold()
        if not any(low in n or n in low for n in names):
            return name
    return None


def _fmt_distance(km: float, lang: str, variant: int) -> str:
    if km < 1 and variant % 2 == 0:
        m = int(round(km * 1000, -1))
        return f"{m}米" if lang == "zh" and variant < 2 else f"{m}m" if lang == "zh" else f"{m} m"
    v = fmt_amount(round(km, 1) if km >= 1 else round(km, 2))
    if lang == "zh":
        return f"{v}公里" if variant < 2 else f"{v}km"
    return f"{v} km" if variant < 2 else f"{v}km"


def _list_label(key: str, lang: str) -> str:
    return LIST_FIELD_LABELS.get(key, {}).get(lang, key.replace("_", " "))


def _render_text(rng, lines: list[_Line], lang: str) -> str:
    price_v, dist_v = rng.randint(0, 1), rng.randint(0, 3)
    out = [rng.choice(_OPENINGS[lang])]
    for j, ln in enumerate(lines, 1):
        parts = []
        if lang == "zh":
            if ln.category is not None:
                parts.append(f"类别：{ln.category}")
            if ln.price is not None:
                parts.append(
                    f"价格¥{fmt_amount(ln.price)}"
                    if price_v == 0
                    else f"人均{fmt_amount(ln.price)}元"
                )
            if ln.rating is not None:
                parts.append(f"评分{ln.rating:.1f}")
            if ln.distance is not None:
                parts.append(f"距您{_fmt_distance(ln.distance, lang, dist_v)}")
            if ln.hours:
                parts.append("营业时间" + "、".join(ln.hours))
            if ln.list_key:
                parts.append(f"{_list_label(ln.list_key, lang)}：{'、'.join(ln.list_value)}")
            body = f"{j}. 【{ln.name}】" + "，".join(parts) + ("。" if parts else "") + ln.comment
        else:
            if ln.category is not None:
                parts.append(f"category: {ln.category}")
            if ln.price is not None:
                parts.append(
                    f"price ¥{fmt_amount(ln.price)}"
                    if price_v == 0
                    else f"about {fmt_amount(ln.price)} yuan per person"
                )
            if ln.rating is not None:
                parts.append(f"rated {ln.rating:.1f}/5")
            if ln.distance is not None:
                parts.append(f"{_fmt_distance(ln.distance, lang, dist_v)} away")
            if ln.hours:
                parts.append("open " + " and ".join(ln.hours))
            if ln.list_key:
                parts.append(f"{_list_label(ln.list_key, lang)}: {', '.join(ln.list_value)}")
            body = (
                f"{j}. {ln.name}" + (" — " + "; ".join(parts) if parts else "") + ". " + ln.comment
            )
        out.append(body)
    out.append(rng.choice(_CLOSINGS[lang]))
    return "\n".join(out)


def _json_value(ln: _Line, key: str):
    if key == "item_id":
        return ln.item.item_id
    if key == "name":
        return ln.name
    if key == "category":
        return ln.category
    if key == "price":
        return (
            None
            if ln.price is None
            else (int(ln.price) if ln.price == int(ln.price) else round(ln.price, 2))
        )
    if key == "rating":
        return None if ln.rating is None else round(ln.rating, 1)
    if key == "distance_km":
        return None if ln.distance is None else round(ln.distance, 2)
    if key == "opening_hours":
        return ", ".join(ln.hours) if ln.hours else None
    if key == "reason":
        return ln.comment
    return None


def _json_violation(rng, lines, fields, misstated, with_ids: bool):
    """Pick how the JSON breaks: drop a required field from one entry, or malformed JSON. An
    entry keeps its name where no item id is written (it would name no item at all)."""
    renamed = {id(ln) for ln, f in misstated if f == "name"}
    touched = {(id(ln), f) for ln, f in misstated}
    key_field = {"distance_km": "distance"}
    options = [
        (ln, key)
        for ln in lines
        for key in fields
        if (id(ln), key_field.get(key, key)) not in touched
        and not (key in ("item_id", "name") and id(ln) in renamed)
        and not (key == "name" and not with_ids)
    ]
    if options and rng.random() < 0.6:
        return rng.choice(options), None
    return None, "cut_off"


def _render_json(rng, lines, present, lang, drop, brk) -> str:
    recs = []
    for ln in lines:
        obj = {}
        for key in present:
            value = _json_value(ln, key)
            if value is not None:
                obj[key] = value
        if ln.list_key:
            obj[ln.list_key] = ln.list_value
        if drop and drop[0] is ln:
            obj.pop(drop[1], None)
        recs.append(obj)
    summary = rng.choice(_CLOSINGS[lang])
    if rng.random() < 0.5:
        text = json.dumps({"recommendations": recs, "summary": summary}, ensure_ascii=False)
    else:  # one object per line: pretty, and the C encoder does the work (indent= would not)
        body = ",\n".join("    " + json.dumps(r, ensure_ascii=False) for r in recs)
        text = (
            '{\n  "recommendations": [\n'
            + body
            + '\n  ],\n  "summary": '
            + json.dumps(summary, ensure_ascii=False)
            + "\n}"
        )
    fenced = rng.random() < 0.35
    if brk == "cut_off":
        # The answer stopped before its end (a token limit), fence and all: no character a
        # compliant answer lacks (a trailing comma or a comment line would be one recurring
        # string that only broken answers hold).
        cut = cut_off_json(text, 0, len(text), rng.random())
        text = cut if cut is not None else text[: text.rfind("}")]
        return "```json\n" + text if fenced else text
    return "```json\n" + text + "\n```" if fenced else text


def _add_remarks(
    rng: _Rng, lines: list[_Line], lang: str, forbidden: tuple[str, ...] | None, violate: bool
) -> None:
    """Quote praise after the reason of 1-2 lines of REMARK_RATE of responses, whatever their
    label, with words the instruction does not forbid; a response that breaks a forbidden-content
    rule quotes a forbidden word instead (in a remark it holds, else in one added). In place."""
    allowed = [w for w in FORBIDDEN_WORDS[lang] if w not in (forbidden or ())]
    chosen: list[int] = []
    if rng.random() < REMARK_RATE and allowed:
        chosen = rng.sample(range(len(lines)), min(len(lines), 1 if rng.random() < 0.7 else 2))
        for j in chosen:
            lines[j].remark = rng.choice(_REMARKS[lang]).format(w=rng.choice(allowed))
    if violate and forbidden:
        word = rng.choice([w for w in forbidden if w in FORBIDDEN_WORDS[lang]] or forbidden)
        j = chosen[0] if chosen else rng.randrange(len(lines))
        lines[j].remark = rng.choice(_REMARKS[lang]).format(w=word)
