"""Instruction parsing: every constraint type in Chinese and English, and the cross-check."""

import json

import pytest

from assets.dimensions.instruction_following.parse import cross_check, parse_instruction
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
    constraints_to_json,
)

ALL = [
    JsonFormat(("item_id", "name", "price")),
    ItemCount("exactly", 3),
    ItemCount("at_most", 4),
    MaxLength(300),
    Language("zh"),
    Language("en"),
    ForbiddenContent(("best ever", "guaranteed")),
    ForbiddenContent(("最便宜", "绝对")),
    MaxPrice(80.0),
    MaxPrice(12.5),
    MaxDistanceKm(3.0),
    MaxDistanceKm(0.8),
    MaxDistanceKm(2.35),
    MustMention(("老王烧烤(长宁店)",)),
    MustMention(("Fortune Wonton Shop (Xihu)",)),
    Tone("friendly"),
    Tone("professional"),
    AnswerRelevance(),
]


@pytest.mark.parametrize("lang", ["zh", "en"])
@pytest.mark.parametrize("variant", [0, 1])
@pytest.mark.parametrize("constraint", ALL, ids=lambda c: f"{c.type}")
def test_every_phrasing_parses_back(constraint, lang, variant):
    text = f"You are an assistant.\n1. {constraint.describe(lang, variant)}"
    assert parse_instruction(text) == [constraint]


def test_a_whole_instruction_in_each_language():
    zh = (
        "你是本地生活平台的美食推荐助手。请只根据检索工具返回的结果回答用户的需求。\n请遵守以下规则：\n"
        "1. 推荐数量必须是三家。\n2. 回复长度不得超过250个字符。\n3. 只推荐价格不超过¥58.5的选项。\n"
        "4. 只推荐距离用户800米以内的商家。\n5. 必须推荐「7天酒店. 旗舰店」。\n6. 语气要亲切友好。"
    )
    assert parse_instruction(zh) == [
        ItemCount("exactly", 3),
        MaxLength(250),
        MaxPrice(58.5),
        MaxDistanceKm(0.8),
        MustMention(("7天酒店. 旗舰店",)),
        Tone("friendly"),
    ]
    en = (
        "You are the hotel shopping assistant. Follow these rules:\n"
        "- Recommend no more than two options.\n- Every recommendation must cost no more than $1,200.\n"
        '- Never mention "cheapest" or "number one".\n- Respond only in English.\n'
        "- Output must be valid JSON; every recommendation needs the fields: item_id, name."
    )
    assert parse_instruction(en) == [
        JsonFormat(("item_id", "name")),
        ItemCount("at_most", 2),
        Language("en"),
        ForbiddenContent(("cheapest", "number one")),
        MaxPrice(1200.0),
    ]


def test_prices_distances_and_numbers_in_their_variants():
    assert parse_instruction("人均预算100元以内。") == [MaxPrice(100.0)]
    assert parse_instruction("预算上限为￥66。") == [MaxPrice(66.0)]
    assert parse_instruction("Keep the budget under 45 yuan per item.") == [MaxPrice(45.0)]
    assert parse_instruction("距离不超过1.5km。") == [MaxDistanceKm(1.5)]
    assert parse_instruction("Only places within 500 meters.") == [MaxDistanceKm(0.5)]
    assert parse_instruction("最多推荐十二个。") == [ItemCount("at_most", 12)]
    assert parse_instruction("请恰好推荐两家。") == [ItemCount("exactly", 2)]
    # A number inside a must-mention name is not an item count.
    assert parse_instruction("必须推荐「3家小馆」。") == [MustMention(("3家小馆",))]
    assert parse_instruction("Recommend at most three of the retrieved items.") == [
        ItemCount("at_most", 3)
    ]


def test_preambles_carry_no_constraint():
    assert (
        parse_instruction(
            "你是本地生活平台的酒店推荐助手。请只根据检索工具返回的结果回答用户的需求。"
        )
        == []
    )
    assert (
        parse_instruction(
            "You are the grocery shopping assistant of a local-services app. Answer the user's "
            "request using only what your search tool returned."
        )
        == []
    )


def test_cross_check_agrees_and_reports_disagreements():
    parsed = [ItemCount("exactly", 3), MaxPrice(80.0)]
    assert cross_check(parsed, None) == []
    assert cross_check(parsed, constraints_to_json(parsed)) == []
    other = json.dumps(
        [
            {"type": "item_count", "params": {"mode": "exactly", "n": 4}},
            {"type": "language", "params": {"lang": "zh"}},
        ]
    )
    assert cross_check(parsed, other) == [
        "params_differ:item_count",
        "missing_in_instruction:language",
        "missing_in_json:max_price",
    ]
    bad = cross_check(parsed, '[{"type": "max_items", "params": {"n": 3}}]')
    assert len(bad) == 1 and bad[0].startswith("bad_json:unknown constraint type 'max_items'")
    assert cross_check(parsed, "not json")[0].startswith("bad_json:")


def test_other_common_phrasings():
    assert parse_instruction("Limit your answer to 200 characters.") == [MaxLength(200)]
    assert parse_instruction("字数不超过150。") == [MaxLength(150)]
    assert parse_instruction("Recommend 3 restaurants.") == [ItemCount("exactly", 3)]
    assert parse_instruction("Recommend up to 2 hotels.") == [ItemCount("at_most", 2)]
    assert parse_instruction("Use English only.") == [Language("en")]
    assert parse_instruction("请以中文作答。") == [Language("zh")]
    assert parse_instruction("不要提到“最便宜”。") == [ForbiddenContent(("最便宜",))]
    assert parse_instruction("Don't recommend anything over ¥100.") == [MaxPrice(100.0)]
    assert parse_instruction("人均200元以下。") == [MaxPrice(200.0)]
    assert parse_instruction("一定要包含「老王烧烤」。") == [MustMention(("老王烧烤",))]
    # Cues without an amount state no limit.
    assert parse_instruction("Keep the answer under 300 characters.") == [MaxLength(300)]
    assert parse_instruction("只推荐距离用户3公里以内的商家。") == [MaxDistanceKm(3.0)]
