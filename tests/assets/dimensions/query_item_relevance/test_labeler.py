"""The domain vocabulary and the evidence labeler on a small bilingual catalog built in code."""

import json

import polars as pl
import pytest

from assets.dimensions.query_item_relevance.balance import grade_additions, take_catalog_pairs
from assets.dimensions.query_item_relevance.labeler import (
    FALLBACK_CONFIDENCE,
    MIN_CONFIDENCE,
    label_pairs,
)
from assets.dimensions.query_item_relevance.vocabulary import learn_vocabulary, query_intents

# canonical key -> (zh category, en category, zh nouns, en nouns)
CATEGORIES = {
    "noodles": ("面条", "Noodles", ["牛肉面", "面馆"], ["Beef Noodles", "Noodle House"]),
    "dumplings": ("饺子", "Dumplings", ["水饺", "饺子馆"], ["Dumplings", "Dumpling House"]),
    "tea": ("奶茶", "Milk Tea", ["奶茶铺", "茶饮"], ["Milk Tea", "Tea Bar"]),
}
PREFIXES = [("老王", "Wang's"), ("李记", "Li's"), ("阿强", "Keung's")]


def _catalog() -> pl.DataFrame:
    rows = []
    for key, (zh_cat, en_cat, zh_nouns, en_nouns) in CATEGORIES.items():
        for i in range(24):
            lang = "zh" if i % 2 == 0 else "en"
            j = i % 2 + (i // 4) % 2
            title_zh = f"{PREFIXES[i % 3][0]}{zh_nouns[j % 2]}"
            title_en = f"{PREFIXES[i % 3][1]} {en_nouns[j % 2]}"
            spicy = key != "tea" and i % 3 == 0
            tags = (["实惠"] if lang == "zh" else ["good value"]) + (
                [("麻辣" if lang == "zh" else "spicy")] if spicy else []
            )
            rows.append(
                {
                    "item_id": f"{key}-{i:02d}",
                    "title": title_zh if lang == "zh" else title_en,
                    "category": zh_cat if lang == "zh" else en_cat,
                    "tags": tags,
                    "price": 20.0 + 5 * i,
                    "attributes": json.dumps(
                        {
                            "lang": lang,
                            "title_zh": title_zh,
                            "title_en": title_en,
                            "features": ["spicy"] if spicy else [],
                        },
                        ensure_ascii=False,
                    ),
                }
            )
    return pl.DataFrame(rows)


def _annotations() -> pl.DataFrame:
    rows = []
    # "拉面" names no item, but experts grade noodle shops exact for it.
    for item in ("noodles-00", "noodles-01", "noodles-02", "noodles-03"):
        rows.append(("拉面", item, 3))
    for item in ("dumplings-00", "dumplings-01"):  # substitutes for noodles
        rows.append(("牛肉面", item, 2))
    for item in ("tea-00", "tea-01", "tea-02"):  # a drink goes with noodles
        rows.append(("牛肉面", item, 1))
    rows.append(("牛肉面", "tea-03", 0))  # one dissenting expert
    return pl.DataFrame(rows, schema=["query", "item_id", "label"], orient="row")


@pytest.fixture(scope="module")
def vocabulary():
    return learn_vocabulary(_catalog(), _annotations())


def _pairs(rows: list[tuple[str, str]]) -> pl.DataFrame:
    items = _catalog()
    return pl.DataFrame(rows, schema=["query", "item_id"], orient="row").join(
        items.with_columns(pl.lit(None, dtype=pl.String).alias("description")),
        on="item_id",
        how="left",
        maintain_order="left",
    )


def test_categories_in_two_languages_are_one(vocabulary):
    mapping = dict(vocabulary.categories.iter_rows())
    assert mapping["面条"] == mapping["Noodles"] == "Noodles / 面条"
    assert mapping["饺子"] == mapping["Dumplings"] != mapping["面条"]
    assert vocabulary.categories["canonical"].n_unique() == 3


def test_feature_names_in_both_languages(vocabulary):
    features = vocabulary.features.select("name", "feature")
    assert dict(features.iter_rows()) == {"spicy": "spicy", "麻辣": "spicy"}
    assert not vocabulary.features["ambiguous"].any()
    facts = vocabulary.item_facts.filter(pl.col("item_id") == "noodles-00")
    assert facts["features"][0].to_list() == ["spicy"]


def test_queries_parse_cap_feature_and_intent(vocabulary):
    queries = pl.DataFrame(
        {"query": ["麻辣的拉面 30元以内", "spicy noodles under ¥45", "饺子", "附近好吃的"]}
    )
    out = {r["query"]: r for r in query_intents(queries, vocabulary).iter_rows(named=True)}
    first = out["麻辣的拉面 30元以内"]
    assert first["price_cap"] == 30 and first["feature"] == "spicy"
    # the intent comes from the experts' evidence: no item text says 拉面
    assert first["intent"] == "Noodles / 面条" and first["intent_confidence"] > 0.5
    second = out["spicy noodles under ¥45"]
    assert second["price_cap"] == 45 and second["feature"] == "spicy"
    assert second["intent"] == "Noodles / 面条"
    assert out["饺子"]["intent"] == "Dumplings / 饺子"
    assert out["附近好吃的"]["intent"] is None


def test_relations_come_from_the_experts(vocabulary):
    rel = {(a, b): (g, c) for a, b, g, _, c in vocabulary.relations.iter_rows()}
    grade, confidence = rel[("Noodles / 面条", "Milk Tea / 奶茶")]
    assert grade == 1 and confidence == pytest.approx(0.75)
    assert rel[("Noodles / 面条", "Dumplings / 饺子")][0] == 2


def test_grades_from_intent_modifiers_and_relations(vocabulary):
    pairs = _pairs(
        [
            ("麻辣的拉面 40元以内", "noodles-00"),  # noodles, spicy, 20 <= 40: exact
            ("麻辣的拉面 40Ԃ", "noodles-03"),  # spicy, no cap parsed
            ("麻辣的拉面 40元以内", "noodles-06"),  # spicy but 50 > 40: substitute
            ("麻辣的拉面 40元以内", "noodles-01"),  # not spicy: substitute
            ("spicy beef noodles", "noodles-00"),  # English query, Chinese item: exact
            ("麻辣的拉面 40元以内", "tea-01"),  # the experts' complement
            ("麻辣的拉面 40元以内", "dumplings-00"),  # the experts' substitute
            ("饺子", "tea-00"),  # no expert grade for dumplings -> tea: lexical fallback
        ]
    )
    out = label_pairs(pairs, vocabulary)
    assert out["label"].to_list()[:1] + out["label"].to_list()[2:] == [3, 2, 2, 3, 1, 2, 0]
    evidence = out["evidence"].to_list()
    assert evidence[0] == "intent_category" and evidence[5] == "expert_relation"
    assert evidence[7] == "lexical"
    assert out["label_confidence"][7] <= FALLBACK_CONFIDENCE < MIN_CONFIDENCE
    assert (out["label_confidence"].head(5) >= MIN_CONFIDENCE).all()
    assert out.select(pairs.columns).equals(pairs)


def test_a_feature_name_that_may_be_the_subject_leaves_a_lacking_item_undecided():
    """ "麻辣" names a feature, and is also how every 麻辣烫 shop is named: for "麻辣烫" an item
    without the spicy key may well be exact, so the rule does not decide it."""
    catalog = _catalog().with_columns(
        pl.when(pl.col("item_id").str.starts_with("noodles") & (pl.col("category") == "面条"))
        .then(pl.lit("老王麻辣烫"))
        .otherwise(pl.col("title"))
        .alias("title")
    )
    experts = pl.concat(
        [
            _annotations(),
            pl.DataFrame(
                [("麻辣烫", f"noodles-{i:02d}", 3) for i in (4, 8, 12)],
                schema=["query", "item_id", "label"],
                orient="row",
            ),
        ]
    )
    vocabulary = learn_vocabulary(catalog, experts)
    assert dict(vocabulary.features.select("name", "ambiguous").iter_rows())["麻辣"]
    pairs = _pairs([("麻辣烫", "noodles-00"), ("麻辣烫", "noodles-02")]).with_columns(
        pl.lit("老王麻辣烫").alias("title")
    )
    out = label_pairs(pairs, vocabulary)
    spicy, plain = out.row(0, named=True), out.row(1, named=True)
    assert spicy["label"] == 3 and spicy["label_confidence"] >= MIN_CONFIDENCE
    assert plain["label"] == 2 and plain["label_confidence"] < MIN_CONFIDENCE


def test_labels_ignore_columns_the_prompt_does_not_show(vocabulary):
    pairs = _pairs([("拉面", "noodles-00"), ("拉面", "tea-00"), ("饺子", "noodles-02")])
    plain = label_pairs(pairs, vocabulary)
    engaged = label_pairs(pairs.with_columns(pl.lit(2).alias("engagement")), vocabulary)
    assert plain.select("label", "label_confidence").equals(
        engaged.select("label", "label_confidence")
    )


def test_grade_additions_reach_the_floor():
    counts = {0: 10, 1: 0, 2: 60, 3: 30}
    add = grade_additions(counts, floor=0.2)
    total = sum(counts.values()) + sum(add.values())
    for grade in (0, 1):
        assert (counts[grade] + add[grade]) / total >= 0.2
    assert set(add) == {0, 1}
    assert grade_additions({0: 25, 1: 25, 2: 25, 3: 25}, floor=0.2) == {}


def test_take_catalog_pairs_adds_only_confident_needed_grades():
    base = pl.DataFrame(
        {
            "entry_id": [f"s{i}" for i in range(10)],
            "origin": ["shown"] * 10,
            "order_key": [0.5] * 10,
            "label": [3] * 6 + [2] * 4,
            "label_source": ["heuristic"] * 10,
            "label_confidence": [0.9] * 10,
        }
    )
    catalog = pl.DataFrame(
        {
            "entry_id": [f"c{i}" for i in range(8)],
            "origin": ["catalog"] * 8,
            "order_key": [0.1 * i for i in range(8)],
            "label": [0, 0, 0, 0, 1, 1, 3, 0],
            "label_source": ["heuristic"] * 8,
            "label_confidence": [0.9, 0.9, 0.2, 0.9, 0.9, 0.9, 0.9, 0.9],
        }
    )
    kept = take_catalog_pairs(pl.concat([base, catalog]), floor=0.2)
    added = kept.filter(pl.col("origin") == "catalog")
    assert set(added["label"]) == {0, 1}  # grade 3 is not short
    assert "c2" not in added["entry_id"].to_list()  # a low-confidence candidate is never taken
    # 10 shown entries, none of grades 0 and 1: 4 of each would be needed, in seeded order.
    assert added.filter(pl.col("label") == 0)["entry_id"].to_list() == ["c0", "c1", "c3", "c7"]
    assert added.filter(pl.col("label") == 1).height == 2  # all there are
    assert kept.filter(pl.col("origin") == "shown").height == 10
