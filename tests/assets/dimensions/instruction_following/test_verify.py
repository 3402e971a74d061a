"""Hard-constraint verifiers, one constraint type at a time, on hand-written responses."""

import json

import pytest

from assets.dimensions.factual_consistency.evidence import evidence_item
from assets.dimensions.factual_consistency.responses import parse_response
from assets.dimensions.instruction_following.verify import detect_language, is_violated, violations
from schemas.constraints import (
    AnswerRelevance,
    ForbiddenContent,
    ItemCount,
    JsonFormat,
    Language,
    MaxDistanceKm,
    MaxLength,
    MaxPrice,
    MustMention,
    Tone,
)


def _item(item_id, title, price, km=None, category="火锅", **attrs):
    if km is not None:
        attrs["distance_km"] = km
    return evidence_item(
        {"item_id": item_id, "title": title, "category": category, "price": price, "rating": 4.5,
         "attributes": json.dumps(attrs, ensure_ascii=False)}
    )  # fmt: skip


EV = [
    _item("a", "老王烧烤(长宁店)", 38.0, 1.2, dishes=["羊肉串"]),
    _item("b", "Golden Dragon (Xuhui)", 120.0, 4.8, category="BBQ"),
    _item("c", "小李面馆", 25.5, 0.35),
]
ZH_TEXT = "为您推荐：\n1. 【老王烧烤(长宁店)】人均38元，距您1.2公里。环境不错。\n2. 【小李面馆】价格¥25.5，距您350米。出餐快。\n祝您愉快！"
EN_TEXT = "Here you go:\n1. Golden Dragon (Xuhui) — price $120; 4.8 km away. Good for groups.\n2. 小李面馆 — 25.5 yuan. Quick.\nEnjoy!"


def check(c, text, evidence=EV):
    return is_violated(c, parse_response(text, evidence), evidence)


def test_json_format_in_a_code_fence_and_its_breakages():
    doc = {
        "recommendations": [{"item_id": "a", "name": "老王烧烤(长宁店)", "price": 38}],
        "summary": "好",
    }
    good = "```json\n" + json.dumps(doc, ensure_ascii=False, indent=2) + "\n```"
    c = JsonFormat(("item_id", "name", "price"))
    assert check(c, good) is False
    assert check(c, json.dumps(doc, ensure_ascii=False)) is False
    assert check(c, good.replace('"price": 38', '"note": 1')) is True  # required field missing
    assert check(c, good.replace("\n  ],", ",\n  ],")) is True  # trailing comma
    assert check(c, good[: good.rfind("}")] + "\n```") is True  # truncated
    assert check(c, "Sure!\n" + good) is True  # text outside the fence
    assert check(c, ZH_TEXT) is True  # not JSON at all
    assert check(c, json.dumps([{"item_id": "a", "name": "x", "price": 1}])) is False  # bare list
    other_key = {"items": [{"item_id": "a", "name": "x", "price": 1}], "note": "ok"}
    assert check(c, json.dumps(other_key)) is False
    assert check(c, json.dumps({"a": 1})) is True


def test_item_count_exactly_and_at_most():
    assert check(ItemCount("exactly", 2), ZH_TEXT) is False
    assert check(ItemCount("exactly", 3), ZH_TEXT) is True
    assert check(ItemCount("at_most", 2), EN_TEXT) is False
    assert check(ItemCount("at_most", 1), EN_TEXT) is True


def test_max_length_counts_characters():
    assert check(MaxLength(len(ZH_TEXT)), ZH_TEXT) is False
    assert check(MaxLength(len(ZH_TEXT) - 1), ZH_TEXT) is True


def test_language_ignores_item_names_in_the_other_language():
    assert (
        check(Language("zh"), ZH_TEXT.replace("老王烧烤(长宁店)", "Golden Dragon (Xuhui)")) is False
    )
    assert check(Language("en"), EN_TEXT) is False  # holds a Chinese item name
    assert check(Language("en"), ZH_TEXT) is True
    assert check(Language("zh"), EN_TEXT) is True
    assert detect_language("") is None
    assert detect_language("评分4.5，距您1.2km") == "zh"


def test_forbidden_content_is_case_insensitive():
    assert check(ForbiddenContent(("guaranteed",)), EN_TEXT) is False
    assert check(ForbiddenContent(("GOOD FOR",)), EN_TEXT) is True
    assert check(ForbiddenContent(("绝对", "出餐快")), ZH_TEXT) is True


def test_max_price_uses_the_actual_price_of_a_named_item():
    assert check(MaxPrice(40), ZH_TEXT) is False
    assert check(MaxPrice(30), ZH_TEXT) is True
    # Misquoting a price does not dodge the budget: Golden Dragon costs 120 whatever is claimed.
    assert check(MaxPrice(100), EN_TEXT.replace("$120", "$80")) is True
    # An item outside the evidence is judged by its claimed price.
    invented = "1. 金满楼私房菜 — price ¥300. Nice."
    assert check(MaxPrice(100), invented) is True
    assert check(MaxPrice(500), invented) is False


def test_max_distance_in_metres_and_kilometres():
    assert check(MaxDistanceKm(1.5), ZH_TEXT) is False
    assert check(MaxDistanceKm(1.0), ZH_TEXT) is True  # 老王烧烤 is 1.2 km away
    assert check(MaxDistanceKm(0.3), "1. 小李面馆 — 350 m away.") is True
    assert check(MaxDistanceKm(0.4), "1. 小李面馆 — 350 m away.") is False
    invented = "1. 金满楼私房菜（距您800米）"
    assert check(MaxDistanceKm(0.5), invented) is True


def test_must_mention_by_name_or_id():
    assert check(MustMention(("小李面馆",)), ZH_TEXT) is False
    assert check(MustMention(("Golden Dragon (Xuhui)",)), ZH_TEXT) is True
    assert check(MustMention(("c",)), ZH_TEXT) is False  # by item id
    assert check(MustMention(("不在证据里的店",)), ZH_TEXT) is True


def test_soft_constraints_are_not_decided_by_rule():
    parsed = parse_response(ZH_TEXT, EV)
    assert is_violated(Tone("friendly"), parsed, EV) is None
    assert is_violated(AnswerRelevance(), parsed, EV) is None
    cons = [ItemCount("exactly", 3), Tone("friendly"), MaxPrice(30), Language("zh")]
    assert violations(cons, parsed, EV) == ["item_count", "max_price"]


def test_every_hard_constraint_type_has_one_verifier_and_an_operator_that_breaks_it():
    from assets.dimensions.instruction_following.synthesis import (
        JSON_OPERATORS,
        OPERATOR_FUNCTIONS,
        OPERATORS,
        operator,
    )
    from assets.dimensions.instruction_following.verify import VERIFIERS, verifier
    from schemas.constraints import HARD_TYPES

    assert set(VERIFIERS) == set(HARD_TYPES)
    assert set(OPERATORS.values()) == set(HARD_TYPES)
    assert list(OPERATORS) == list(OPERATOR_FUNCTIONS)  # the order operators are tried in
    assert {"drop_json_field", "break_json"} == JSON_OPERATORS
    with pytest.raises(ValueError, match="registered twice"):
        verifier("max_length")(lambda p, parsed, evidence: False)
    with pytest.raises(ValueError, match="registered twice"):
        operator("break_json", "json_format")(lambda x: None)
