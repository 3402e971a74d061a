"""Claim extraction and checking, one field at a time, in both languages and both formats."""

import json

from assets.dimensions.factual_consistency.claims import check_claims
from assets.dimensions.factual_consistency.evidence import evidence_item
from assets.dimensions.factual_consistency.responses import parse_response


def _item(item_id, title, price, rating, km, category, hours, **lists):
    attrs = {"distance_km": km, "opening_hours": hours, **lists}
    return evidence_item(
        {"item_id": item_id, "title": title, "category": category, "price": price, "rating": rating,
         "attributes": json.dumps(attrs, ensure_ascii=False)}
    )  # fmt: skip


EV = [
    _item(
        "a",
        "老王烧烤(长宁店)",
        38.0,
        4.5,
        1.234,
        "烧烤",
        "10:00-22:00",
        dishes=["羊肉串", "烤馒头"],
    ),
    _item(
        "b",
        "Golden Dragon (Xuhui)",
        1200.0,
        3.9,
        0.853,
        "Hot pot",
        "11:00-14:00,17:00-21:30",
        amenities=["WiFi", "24h hot water"],
    ),  # fmt: skip
    _item(
        "c",
        "Sister Zhang's Wonton Shop",
        25.5,
        4.8,
        6.02,
        "Dumplings",
        "24小时",
        dishes=["hot and sour soup", "pork wontons"],
    ),  # fmt: skip
]


def bad(text):
    return [(c["item_id"], c["field"]) for c in check_claims(parse_response(text, EV), EV)]


def test_a_true_chinese_line_has_no_unsupported_claim():
    line = "1. 【老王烧烤(长宁店)】类别：烧烤，人均38元，评分4.5，距您1.2公里，营业时间10:00-22:00，招牌菜：羊肉串、烤馒头。推荐！"
    assert bad(line) == []
    parsed = parse_response(line, EV)
    fields = sorted(c.field for c in parsed.recommendations[0].claims)
    assert fields == ["category", "dishes", "distance", "opening_hours", "price", "rating"]


def test_a_true_english_line_has_no_unsupported_claim():
    line = (
        "1. Golden Dragon (Xuhui) — category: Hot pot; price $1,200; rated 3.9/5; 850 m away; "
        "open 11:00-14:00 and 17:00-21:30; amenities: 24h hot water, WiFi. Great."
    )
    assert bad(line) == []
    # "24h hot water" is an amenity, not opening hours
    hours = [
        c for c in parse_response(line, EV).recommendations[0].claims if c.field == "opening_hours"
    ]
    assert [c.value for c in hours] == [("11:00-14:00", "17:00-21:30")]


def test_prices_with_each_currency_mark():
    for price in ("¥38", "￥38", "$38", "38元", "38 yuan", "RMB 38", "38.00元"):
        assert bad(f"1. 老王烧烤(长宁店) — {price}.") == [], price
    assert bad("1. 老王烧烤(长宁店) — ¥45.") == [("a", "price")]
    assert bad("1. 【老王烧烤(长宁店)】人均52元。") == [("a", "price")]


def test_distances_in_metres_and_kilometres_within_rounding():
    assert bad("1. 老王烧烤(长宁店)，距您1.2km。") == []
    assert bad("1. 老王烧烤(长宁店)，距您1230米。") == []
    assert bad("1. Golden Dragon (Xuhui) — 0.85 km away.") == []
    assert bad("1. Golden Dragon (Xuhui) — 850m away.") == []
    assert bad("1. Golden Dragon (Xuhui) — 1.9 kilometers away.") == [("b", "distance")]
    assert bad("1. 老王烧烤(长宁店)，距您3公里。") == [("a", "distance")]


def test_rating_hours_category_and_lists():
    assert bad("1. 老王烧烤(长宁店)，评分4.9分。") == [("a", "rating")]
    assert bad("1. Sister Zhang's Wonton Shop — open 24 hours.") == []
    assert bad("1. 老王烧烤(长宁店)，营业时间09:00-22:00。") == [("a", "opening_hours")]
    assert bad("1. 老王烧烤(长宁店)，类别：火锅。") == [("a", "category")]
    assert (
        bad("1. Sister Zhang's Wonton Shop — signature dishes: hot and sour soup, pork wontons.")
        == []
    )
    assert bad("1. Sister Zhang's Wonton Shop — signature dishes: hot and sour soup, 羊肉串.") == [
        ("c", "dishes")
    ]
    assert bad("1. Golden Dragon (Xuhui) — amenities: Pool.") == [("b", "amenities")]


def test_invented_items_and_renamed_json_items():
    assert bad("1. 【金满楼私房菜】人均88元。") == [(None, "name")]
    doc = {"recommendations": [
        {"item_id": "a", "name": "老王烧烤(长宁店)", "price": 38, "distance_km": 1.23},
        {"item_id": "b", "name": "Silver Dragon", "price": 1200},
        {"item_id": "zz9", "name": "Nowhere Inn"},
    ]}  # fmt: skip
    text = "```json\n" + json.dumps(doc, ensure_ascii=False, indent=2) + "\n```"
    assert bad(text) == [("b", "name"), (None, "name")]


def test_malformed_json_is_still_read():
    doc = {"recommendations": [{"item_id": "a", "name": "老王烧烤(长宁店)", "price": 50}]}
    text = json.dumps(doc, ensure_ascii=False)
    truncated = text[: text.rfind("}")]
    assert bad(truncated) == [("a", "price")]
    commented = text.replace("{", "{ // picks\n", 1).replace("]", ",]")
    assert bad(commented) == [("a", "price")]


def test_shared_titles_resolve_to_the_item_the_claims_fit():
    ev = EV + [_item("a2", "老王烧烤(长宁店)", 52.0, 4.0, 2.0, "烧烤", "10:00-22:00")]
    parsed = parse_response("1. 【老王烧烤(长宁店)】人均52元。", ev)
    assert check_claims(parsed, ev) == []
    assert parsed.recommendations[0].item_id == "a2"


def test_an_item_named_in_its_other_language_is_recognized():
    ev = [
        evidence_item(
            {
                "item_id": "h",
                "title": "枫林快捷酒店(长宁店)",
                "category": "经济型酒店",
                "price": 167.0,
                "attributes": json.dumps(
                    {
                        "title_en": "Maple Express Inn (Changning)",
                        "title_zh": "枫林快捷酒店(长宁店)",
                    }
                ),
            }
        )  # fmt: skip
    ]
    parsed = parse_response("1. Maple Express Inn (Changning) — price ¥167. Clean.", ev)
    assert parsed.recommendations[0].item_id == "h" and check_claims(parsed, ev) == []
    doc = json.dumps(
        {"recommendations": [{"item_id": "h", "name": "Maple Express Inn (Changning)"}]}
    )
    assert check_claims(parse_response(doc, ev), ev) == []


# A translation of the true value is not an error (issue 12): the claim checker takes the domain's
# category merge (`synthesis.category_names`), learned from items' names in both languages.
def _named(item_id, title, other, category):
    """An item titled `title` whose name in the other language is `other`."""
    zh, en = (title, other) if "\u4e00" <= title[0] <= "\u9fff" else (other, title)
    return {
        "item_id": item_id, "title": title, "category": category, "tags": [], "price": 30.0,
        "rating": 4.0, "description": None,
        "attributes": json.dumps({"title_en": en, "title_zh": zh}, ensure_ascii=False),
    }  # fmt: skip


BILINGUAL = [
    _named("n1", "巷口牛肉面(黄浦店)", "Alley Beef Noodles (Huangpu)", "牛肉面"),
    _named("n2", "Alley Beef Noodles (Xuhui)", "巷口牛肉面(徐汇店)", "Beef Noodles"),
    _named("n3", "老李牛肉面(静安店)", "Old Li Beef Noodles (Jing'an)", "牛肉面"),
    _named("n4", "Old Li Beef Noodles (Pudong)", "老李牛肉面(浦东店)", "Beef Noodles"),
    _named("k1", "串串烧烤(长宁店)", "Skewer BBQ (Changning)", "烧烤"),
    _named("k2", "Skewer BBQ (Huangpu)", "串串烧烤(黄浦店)", "BBQ"),
    _named("k3", "老张烧烤(闵行店)", "Old Zhang BBQ (Minhang)", "烧烤"),
    _named("k4", "Old Zhang BBQ (Pudong)", "老张烧烤(浦东店)", "BBQ"),
]


def _category_names(items):
    import polars as pl

    from assets.dimensions.factual_consistency.synthesis import category_names

    return category_names(pl.Series("evidence", [items]))


def test_category_names_join_one_category_in_two_languages():
    names = _category_names(BILINGUAL)
    assert names["牛肉面"] == names["beef noodles"] != names["烧烤"] == names["bbq"]


def test_the_other_language_name_of_the_true_category_is_supported():
    ev = [evidence_item(i) for i in BILINGUAL[:2]]
    names = _category_names(BILINGUAL)
    zh_line = "1. 【巷口牛肉面(黄浦店)】类别：Beef Noodles，人均30元。"
    en_line = "1. Alley Beef Noodles (Xuhui) — category: 牛肉面; price ¥30. Good value."
    for line in (zh_line, en_line):
        assert check_claims(parse_response(line, ev), ev, names) == [], line
        # Without the domain's category merge the translation reads as a different category.
        assert [c["field"] for c in check_claims(parse_response(line, ev), ev)] == ["category"]
    # Another category is still an error, in either language.
    for wrong in ("烧烤", "BBQ"):
        line = f"1. 【巷口牛肉面(黄浦店)】类别：{wrong}，人均30元。"
        found = check_claims(parse_response(line, ev), ev, names)
        assert [(c["item_id"], c["field"]) for c in found] == [("n1", "category")], wrong
    # JSON responses alike.
    doc = json.dumps(
        {
            "recommendations": [
                {"item_id": "n2", "name": "巷口牛肉面(徐汇店)", "category": "牛肉面"}
            ]
        },
        ensure_ascii=False,
    )
    assert check_claims(parse_response(doc, ev), ev, names) == []


def test_a_same_script_merge_is_not_a_translation():
    # Sister categories whose items share name words may merge in the relevance vocabulary; a
    # claim of one about the other stays an error (a translation changes the script).
    items = [
        _named("s1", "老王牛肉面(黄浦店)", "老王牛肉面(黄浦店)", "牛肉面"),
        _named("s2", "老王牛肉粉(黄浦店)", "老王牛肉粉(黄浦店)", "牛肉粉"),
        _named("s3", "巷口饺子(静安店)", "巷口饺子(静安店)", "饺子"),
    ]
    import polars as pl

    from assets.dimensions.query_item_relevance.vocabulary import learn_vocabulary

    merged = learn_vocabulary(pl.DataFrame(items), None).categories
    assert (
        merged.filter(pl.col("category").is_in(["牛肉面", "牛肉粉"]))["canonical"].n_unique() == 1
    )
    names = _category_names(items)
    assert names["牛肉面"] == "牛肉面" and names["牛肉粉"] == "牛肉粉"
    ev = [evidence_item(i) for i in items]
    found = check_claims(parse_response("1. 【老王牛肉面(黄浦店)】类别：牛肉粉。", ev), ev, names)
    assert [c["field"] for c in found] == ["category"]
