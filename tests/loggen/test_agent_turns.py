"""The agent-transcript generator: contract columns, truth, rates, determinism, speed."""

import json
import random
import re
from collections import Counter
from datetime import datetime

import polars as pl
import pytest

from assets.dimensions.factual_consistency.evidence import evidence_item
from assets.dimensions.factual_consistency.responses import parse_response
from assets.scoring.baselines.text import MarkerRule, ResponseNgram
from assets.scoring.metrics import roc_auc
from core.settings import ValidityThresholds
from loggen.agent_turns import (
    _CLOSINGS,
    _OPENINGS,
    _REASONS,
    FORBIDDEN_WORDS,
    TRUTH_SCHEMA,
    TURN_SCHEMA,
    AgentErrorRates,
    make_agent_turns,
)
from schemas.constraints import HARD_TYPES, constraints_from_json
from schemas.logs import AGENT_TURNS


def _inputs(n_requests=2000, n_items=40, seed=5):
    rng = random.Random(seed)
    items = pl.DataFrame(
        {
            "item_id": [f"i{k}" for k in range(n_items)],
            "title": [f"店铺{k}号" if k % 2 else f"Shop {k}" for k in range(n_items)],
            "category": [["火锅", "Noodles", "烧烤"][k % 3] for k in range(n_items)],
            "price": [round(rng.uniform(5, 200), 1) for _ in range(n_items)],
            "rating": [round(rng.uniform(3, 5), 1) for _ in range(n_items)],
            "lat": [31.2 + rng.uniform(-0.05, 0.05) for _ in range(n_items)],
            "lon": [121.4 + rng.uniform(-0.05, 0.05) for _ in range(n_items)],
            "opening_hours": ["10:00-22:00"] * n_items,
            "attributes": [
                json.dumps({"dishes": [f"菜{k}", f"dish {k + 1}"]}) for k in range(n_items)
            ],
        }
    )
    requests = pl.DataFrame(
        {
            "request_id": [f"r{j}" for j in range(n_requests)],
            "user_id": [f"u{j % 30}" for j in range(n_requests)],
            "ts": [datetime(2026, 2, 1)] * n_requests,
            "query": ["q"] * n_requests,
            "lang": ["zh" if j % 3 else "en" for j in range(n_requests)],
            "lat": [31.2 if j % 4 else None for j in range(n_requests)],
            "lon": [121.4 if j % 4 else None for j in range(n_requests)],
        }
    )
    retrieved = pl.DataFrame(
        {
            "request_id": requests["request_id"],
            "item_ids": [
                [f"i{k}" for k in rng.sample(range(n_items), rng.randint(3, 10))]
                for _ in range(n_requests)
            ],
        }
    )
    return requests, retrieved, items


@pytest.fixture(scope="module")
def inputs():
    return _inputs()


def test_contract_columns_and_truth(inputs):
    turns, truth = make_agent_turns(*inputs, "food_delivery", 1, AgentErrorRates())
    assert dict(turns.schema) == TURN_SCHEMA and dict(truth.schema) == TRUTH_SCHEMA
    assert set(AGENT_TURNS.columns) == set(turns.columns)
    assert turns["turn_id"].n_unique() == turns.height == truth.height
    assert turns["turn_id"].to_list() == truth["turn_id"].to_list()
    assert turns["retrieved_item_ids"].to_list() == inputs[1]["item_ids"].to_list()
    for text in turns["constraints"].to_list()[:300]:
        assert any(c.hard for c in constraints_from_json(text))
    kinds = set(truth["violated_constraints"].explode().drop_nulls())
    assert kinds == set(HARD_TYPES)
    fields = set(truth["misstated"].explode().struct.field("field").drop_nulls())
    assert {"name", "price", "rating", "distance", "opening_hours", "category", "dishes"} <= fields
    zh = turns.join(inputs[0], on="request_id").filter(pl.col("lang") == "zh")
    assert zh["instruction"].str.contains("请遵守以下规则").all()


def test_rates_are_honoured(inputs):
    _, truth = make_agent_turns(*inputs, "food_delivery", 2, AgentErrorRates(0.25, 0.2))
    assert abs((truth["violated_constraints"].list.len() > 0).mean() - 0.25) < 0.035
    assert abs((truth["misstated"].list.len() > 0).mean() - 0.20) < 0.035
    _, none = make_agent_turns(*inputs, "food_delivery", 2, AgentErrorRates(0.0, 0.0))
    assert (
        none["violated_constraints"].list.len().sum() == 0
        and none["misstated"].list.len().sum() == 0
    )
    _, every = make_agent_turns(*inputs, "food_delivery", 2, AgentErrorRates(1.0, 1.0))
    assert (every["violated_constraints"].list.len() > 0).all()
    assert (every["misstated"].list.len() > 0).mean() > 0.97


def test_deterministic_and_independent_of_chunking(inputs):
    requests, retrieved, items = inputs
    whole = make_agent_turns(requests, retrieved, items, "hotel", 3, AgentErrorRates())
    parts = [
        make_agent_turns(requests, retrieved[a:b], items, "hotel", 3, AgentErrorRates())
        for a, b in ((0, 700), (700, 2000))
    ]
    assert whole[0].equals(pl.concat([p[0] for p in parts]))
    assert whole[1].equals(pl.concat([p[1] for p in parts]))
    other = make_agent_turns(requests, retrieved, items, "hotel", 4, AgentErrorRates())
    assert not whole[0]["response"].equals(other[0]["response"])


def test_bad_inputs_are_named(inputs):
    requests, retrieved, items = inputs
    with pytest.raises(ValueError, match="lang 'fr'"):
        make_agent_turns(
            requests.with_columns(pl.lit("fr").alias("lang")),
            retrieved.head(2),
            items,
            "d",
            1,
            AgentErrorRates(),
        )
    bad = pl.DataFrame({"request_id": ["r0"], "item_ids": [["nope"]]})
    with pytest.raises(ValueError, match="unknown items"):
        make_agent_turns(requests, bad, items, "d", 1, AgentErrorRates())
    with pytest.raises(ValueError, match="must be in"):
        make_agent_turns(requests, retrieved, items, "d", 1, AgentErrorRates(1.5, 0))
    with pytest.raises(ValueError, match="items lacks required column 'price'"):
        make_agent_turns(requests, retrieved, items.drop("price"), "d", 1, AgentErrorRates())


def test_minimal_contract_columns_are_enough(inputs):
    requests, retrieved, items = inputs
    bare_items = items.select("item_id", "title", "category", "price")
    bare_requests = requests.select("request_id", "user_id", "ts", "query", "lang")
    turns, truth = make_agent_turns(
        bare_requests, retrieved.head(300), bare_items, "d", 1, AgentErrorRates()
    )
    assert turns.height == 300
    assert (
        not turns["instruction"].str.contains("km|公里|米").any()
    )  # no position: no distance limit
    assert "distance" not in set(truth["misstated"].explode().struct.field("field").drop_nulls())


def _sentences(text: str) -> set[str]:
    """The sentences of a response (text lines, JSON strings) split at sentence ends."""
    parts = re.split(r'[\n"]|(?<=[。！？!?])|(?<=\.)\s', text)
    return {p.strip() for p in parts if len(p.strip()) >= 4}


@pytest.fixture(scope="module")
def half_wrong():
    """Turns where half the responses break a constraint: (responses, labels 1 = compliant).
    6,000 of them: with 2,000, an item's price or name that 2% of one label's responses hold
    came out three times rarer in the other's on 4 of 9 generator seeds by chance alone (a
    different value each time, on either side)."""
    many = _inputs(n_requests=6000)
    turns, truth = make_agent_turns(*many, "food_delivery", 6, AgentErrorRates(0.5, 0.0))
    labels = (truth["violated_constraints"].list.len() == 0).to_list()
    return turns["response"].to_list(), labels


def test_no_sentence_gives_the_label_away(half_wrong):
    """Compliant and wrong responses draw their wording from one pool: no sentence that a fair
    share of one label's responses hold is (nearly) absent from the other's."""
    responses, labels = half_wrong
    held = {True: Counter(), False: Counter()}
    for text, label in zip(responses, labels, strict=True):
        held[label].update(_sentences(text))
    size = {k: labels.count(k) for k in (True, False)}
    assert min(size.values()) > 800
    one_sided = []
    for label in (True, False):
        for sentence, n in held[label].items():
            share = n / size[label]
            other = held[not label][sentence] / size[not label]
            if share >= 0.02 and other < share / 3:
                one_sided.append((label, sentence, round(share, 3), round(other, 3)))
    assert not one_sided, one_sided[:10]
    # Every sentence of the agent's pools is written by both labels at about the same rate.
    for pool in (_OPENINGS, _CLOSINGS, _REASONS):
        for sentence in [s for lang in ("zh", "en") for s in pool[lang]]:
            shares = [
                sum(sentence in t for t, y in zip(responses, labels, strict=True) if y == k)
                / size[k]
                for k in (True, False)
            ]
            assert min(shares) > 0 and abs(shares[0] - shares[1]) < 0.05, (sentence, shares)


def _frame(responses: list[str], labels: list[bool]) -> pl.DataFrame:
    return pl.DataFrame(
        {
            "entry_id": [str(i) for i in range(len(responses))],
            "response": responses,
            "label": pl.Series(labels).cast(pl.Int8),
        }
    )


def test_the_marker_rule_and_ngram_classifier_see_no_label(half_wrong):
    """The validity gate's shortcut baselines, fitted on half the turns and scored on the other
    half (3,000 each: an interval of about +-0.02), stay within the gate's bounds."""
    responses, labels = half_wrong
    frame = _frame(responses, labels)
    train, test = frame[:3000], frame[3000:]
    gold = test["label"].to_numpy()
    marker = MarkerRule.fit("instruction_following", train)
    acc = float((marker.predict(test)["prediction"].to_numpy() == gold).mean())
    scores = ResponseNgram.fit("instruction_following", train, 0).predict(test)["score"]
    auc = roc_auc(gold == 1, scores)
    limits = ValidityThresholds()
    assert acc <= limits.marker_max_acc, acc
    assert auc <= limits.response_ngram_max_auc, auc


def test_no_kind_of_violation_holds_strings_compliant_responses_lack():
    """Per kind of violation, the wrong responses hold the marker rule's strings (8-grams that
    three or more train negatives hold and no train positive does) at most 0.10 more often than
    compliant ones: a violation written by one recipe (a trailing comma or a comment line in
    broken JSON: 0.43 against 0.17 before) or one that adds items (a wrong count by listing more:
    0.28) would be found by its wording. Fitted on 3,000 turns, scored on 3,000."""
    many = _inputs(n_requests=6000)
    turns, truth = make_agent_turns(*many, "food_delivery", 6, AgentErrorRates(0.5, 0.0))
    frame = turns.join(truth, on="turn_id").with_columns(
        (pl.col("violated_constraints").list.len() == 0).cast(pl.Int8).alias("label"),
        pl.col("turn_id").alias("entry_id"),
    )
    train, test = frame[:3000], frame[3000:]
    hits = MarkerRule.fit("instruction_following", train).hits(test) > 0
    test = test.with_columns(pl.Series("hit", hits))
    compliant = float(test.filter(pl.col("label") == 1)["hit"].mean())
    by_kind = (
        test.filter(pl.col("label") == 0)
        .explode("violated_constraints")
        .group_by("violated_constraints")
        .agg(pl.len().alias("n"), pl.col("hit").mean().alias("hit"))
    )
    assert by_kind.height == len(HARD_TYPES) and by_kind["n"].min() >= 100
    over = by_kind.filter(pl.col("hit") > compliant + 0.10)
    assert over.is_empty(), (compliant, over.rows())


def test_wrong_responses_are_as_long_and_list_as_many_items_as_compliant_ones(half_wrong):
    """Breaking a rule changes what a response says, not how much: the same number of items
    and about the same length (a wrong item count moves the limit, not the list; broken JSON is
    cut off, not extended). Before, wrong responses held 2.51 items against 2.23 and were 13%
    longer."""
    responses, labels = half_wrong
    frame = _frame(responses, labels).with_columns(
        pl.col("response").str.len_chars().alias("length"),
        pl.col("response")
        .str.count_matches(r'(?m)^\s*\d{1,2}\. |\{"(?:item_id|name)"')
        .alias("items"),
    )
    means = frame.group_by("label").agg(pl.col("length").mean(), pl.col("items").mean())
    (wrong,), (right,) = (means.filter(pl.col("label") == k).rows(named=True) for k in (0, 1))
    assert abs(wrong["items"] - right["items"]) < 0.1, (wrong, right)
    assert abs(wrong["length"] / right["length"] - 1) < 0.05, (wrong, right)


def test_forbidden_words_are_praise_any_response_may_quote(half_wrong, inputs):
    """The words a forbidden-content rule names are ones compliant responses use too (where their
    instruction does not forbid them); breaking the rule is using a forbidden one."""
    responses, labels = half_wrong
    for words in FORBIDDEN_WORDS.values():
        for word in words:
            with_word = [y for t, y in zip(responses, labels, strict=True) if word in t]
            assert sum(with_word) >= 10, word  # compliant responses holding it
    turns, truth = make_agent_turns(*inputs, "food_delivery", 6, AgentErrorRates(0.5, 0.0))
    rows = turns.join(truth, on="turn_id").iter_rows(named=True)
    for row in rows:
        forbidden = [
            c for c in constraints_from_json(row["constraints"]) if c.type == "forbidden_content"
        ]
        if not forbidden:
            continue
        used = [w for w in forbidden[0].words if w.lower() in row["response"].lower()]
        assert bool(used) == ("forbidden_content" in row["violated_constraints"])


def test_renamed_items_take_real_names_of_the_domain(inputs):
    """A misstated name is another item's real title (an agent confusing two shops), never an
    invented one: with the whole catalog as evidence, every recommendation names an item."""
    requests, retrieved, items = inputs
    turns, truth = make_agent_turns(
        requests, retrieved, items, "food_delivery", 8, AgentErrorRates(0.0, 1.0)
    )
    renamed = truth["misstated"].list.eval(pl.element().struct.field("field") == "name").list.any()
    assert renamed.sum() >= 100
    catalog = [evidence_item(row) for row in items.iter_rows(named=True)]
    for text in turns.filter(renamed)["response"].to_list():
        parsed = parse_response(text, catalog)
        assert parsed.recommendations and all(r.item_id for r in parsed.recommendations), text
