"""What the relevance labeler knows about a domain, learned from its catalog and its experts'
labels: never from engagement, and the same for every pair of the domain.

- categories: the item categories as displayed, with the ones that are one category in two
  languages merged (a Chinese item shows "牛肉面", an English one "Beef Noodles"; items carry
  their names in both languages in `attributes`, so the two categories' items share their name
  words). Two categories merge when each is the other's most similar by tf-idf over their items'
  names in every language, above MERGE_SIMILARITY.
- features: yes/no item properties a query can ask for ("麻辣", "free parking"): a tag is the
  name of a feature key of `attributes.features` when items with the tag (nearly) always have
  the key, and a fair share of the items with the key show the tag.
- lexicon: which words describe which category: for every token of the items' names, category,
  non-feature tags and attribute texts, the share of the category's items that contain it,
  weighted by how specific it is (df^2 / sum of df over categories).
- query evidence: which category a query word means by the experts' exact (3) labels: a query
  word whose exact-labelled items are of category c points to c (learned from the expert slice,
  which names query words no item text contains, such as "枪战片" for action films).
- relations: what grade the experts give an item of category b for a query about category a
  (substitute, complement, unrelated), by majority over their labels of such pairs.

Everything is computed set-based in DuckDB over the domain's catalog and annotations; only the
category merge walks category pairs in Python (a domain has tens of categories).
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass

import duckdb
import polars as pl

from assets.dimensions.query_item_relevance.lexical import tokens_sql

MERGE_SIMILARITY = 0.35  # cosine of two categories' name profiles for one category, 2 languages
FEATURE_PRECISION = 0.98  # share of a tag's items that have the key
FEATURE_RECALL = 0.2  # share of the key's items that show the tag
FEATURE_MIN_ITEMS = 5
# A feature name whose words also name a category in the catalog (lexicon weight at least this:
# "麻辣" in 麻辣烫, "late-night" beside the "late night" of skewer bars) may be the query's subject
# rather than a requirement: whether an item lacking the feature still matches is left undecided.
FEATURE_AMBIGUITY = 0.25
EVIDENCE_SATURATION = 3  # expert exact labels of a query word for its evidence to count fully
RELATION_SATURATION = 2  # expert labels of a category pair for its grade to count fully
EVIDENCE_MARGIN = 0.3  # intent margin an expert-labelled query needs to teach a relation
# Score of the best category at which the query's evidence counts fully (a word every item of a
# category carries, or a query word the experts labelled exact EVIDENCE_SATURATION times, scores
# about 1): below it the intent's confidence shrinks with the evidence.
INTENT_SATURATION = 1.0
# Attribute keys that are not descriptive text: the item's language and its feature keys.
NOT_TEXT_KEYS = ("lang", "features")
# Where a query states a price cap, in Chinese and English ("50元以内", "under ¥50").
CAP_PATTERNS = (
    r"(\d+(?:\.\d+)?)\s*(?:元|块)?\s*(?:以内|以下|之内)",
    r"(?i)(?:under|below|less than|up to|within|max\.?)\s*(?:¥|￥|\$|rmb|cny)?\s*(\d+(?:\.\d+)?)",
)

CATEGORIES_SCHEMA = {"category": pl.String, "canonical": pl.String}
FEATURES_SCHEMA = {"name": pl.String, "feature": pl.String, "ambiguous": pl.Boolean}
WEIGHTS_SCHEMA = {"token": pl.String, "canonical": pl.String, "weight": pl.Float64}
RELATIONS_SCHEMA = {
    "query_canonical": pl.String,
    "item_canonical": pl.String,
    "grade": pl.Int8,
    "votes": pl.Int64,
    "confidence": pl.Float64,
}
ITEM_FACTS_SCHEMA = {
    "item_id": pl.String,
    "canonical": pl.String,
    "price": pl.Float64,
    "features": pl.List(pl.String),
}


@dataclass(frozen=True)
class DomainVocabulary:
    categories: pl.DataFrame  # category (as displayed) -> canonical
    features: pl.DataFrame  # name (as a tag and in queries) -> feature key
    item_facts: pl.DataFrame  # item_id, canonical, price, features (keys)
    lexicon: pl.DataFrame  # token, canonical, weight (catalog)
    query_evidence: pl.DataFrame  # token, canonical, weight (experts' exact labels)
    relations: pl.DataFrame  # query_canonical, item_canonical, grade, votes, confidence

    def describe(self) -> dict:
        return {
            "categories": self.categories.height,
            "canonical_categories": self.categories["canonical"].n_unique(),
            "feature_names": self.features.height,
            "lexicon_tokens": self.lexicon["token"].n_unique(),
            "query_evidence_tokens": self.query_evidence["token"].n_unique(),
            "relations": self.relations.height,
        }


def _empty(schema: dict) -> pl.DataFrame:
    return pl.DataFrame(schema=schema)


def _item_attributes_sql(items: str) -> str:
    """(item_id, key, vals): every attribute of every item as a list of strings."""
    return f"""
SELECT item_id, key,
       CASE json_type(json_extract(attributes, key))
            WHEN 'VARCHAR' THEN [json_extract_string(attributes, key)]
            WHEN 'ARRAY' THEN json_extract_string(json_extract(attributes, key), '$[*]')
            ELSE CAST([] AS VARCHAR[]) END AS vals
FROM (
    SELECT item_id, attributes, unnest(json_keys(attributes)) AS key
    FROM {items}
    WHERE attributes IS NOT NULL AND json_valid(attributes)
      AND json_type(CAST(attributes AS JSON)) = 'OBJECT'
)
"""


def learn_vocabulary(items: pl.DataFrame, annotations: pl.DataFrame | None) -> DomainVocabulary:
    """items: item_id, title, category, tags, price, attributes (JSON text); annotations:
    query, item_id, label (one row per expert label; None or empty: no expert slice)."""
    con = duckdb.connect()
    try:
        con.register("items", items)
        con.execute(f"CREATE TEMP TABLE attrs AS {_item_attributes_sql('items')}")
        categories = _merge_categories(con)
        con.register("categories", categories)
        features = _feature_names(con)
        con.register("feature_names", features)
        item_facts = _item_facts(con)
        con.register("item_facts", item_facts)
        lexicon = _lexicon(con)
        con.register("lexicon_v", lexicon)
        features = _mark_ambiguous(con)
        vocabulary = DomainVocabulary(
            categories=categories,
            features=features,
            item_facts=item_facts,
            lexicon=lexicon,
            query_evidence=_empty(WEIGHTS_SCHEMA),
            relations=_empty(RELATIONS_SCHEMA),
        )
        if annotations is None or annotations.height == 0:
            return vocabulary
        con.register("annotations", annotations.select("query", "item_id", "label"))
        evidence = _query_evidence(con, vocabulary)
        vocabulary = DomainVocabulary(**{**vocabulary.__dict__, "query_evidence": evidence})
        relations = _relations(con, vocabulary)
        return DomainVocabulary(**{**vocabulary.__dict__, "relations": relations})
    finally:
        con.close()


def _merge_categories(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Displayed category -> canonical name ("a / b" for a merged pair, sorted)."""
    profile = con.sql(
        f"""
        WITH names AS (
            SELECT i.item_id, i.category, i.title AS name FROM items i
            WHERE i.category IS NOT NULL
            UNION ALL
            SELECT i.item_id, i.category, unnest(a.vals) AS name
            FROM items i JOIN attrs a ON a.item_id = i.item_id
            WHERE i.category IS NOT NULL AND (a.key LIKE 'title%' OR a.key LIKE 'name%')
        ),
        tok AS (SELECT DISTINCT item_id, category, unnest({tokens_sql("name")}) AS token FROM names),
        n AS (SELECT category, count(DISTINCT item_id) AS n FROM items
              WHERE category IS NOT NULL GROUP BY category),
        tf AS (SELECT category, token, count(*) AS k FROM tok GROUP BY ALL),
        idf AS (SELECT token, ln((SELECT count(*) FROM n) / count(*)) AS idf FROM tf GROUP BY token)
        SELECT tf.category, tf.token, tf.k / n.n * idf.idf AS w
        FROM tf JOIN n USING (category) JOIN idf USING (token)
        WHERE idf.idf > 0
        ORDER BY tf.category, tf.token
        """
    ).pl()
    names = sorted(
        con.sql("SELECT DISTINCT category FROM items WHERE category IS NOT NULL").pl()["category"]
    )
    vectors: dict[str, dict[str, float]] = {c: {} for c in names}
    for category, token, w in profile.iter_rows():
        vectors[category][token] = w
    norms = {c: math.sqrt(sum(w * w for w in v.values())) for c, v in vectors.items()}

    def cosine(a: str, b: str) -> float:
        if not norms[a] or not norms[b]:
            return 0.0
        small, large = sorted((vectors[a], vectors[b]), key=len)
        return sum(w * large.get(t, 0.0) for t, w in small.items()) / (norms[a] * norms[b])

    best = {}
    for a in names:
        scored = [(cosine(a, b), b) for b in names if b != a]
        if scored:
            best[a] = max(scored, key=lambda s: (s[0], s[1]))
    canonical = {c: c for c in names}
    for a, (sim, b) in best.items():
        if sim >= MERGE_SIMILARITY and best.get(b, (0.0, None))[1] == a and a < b:
            canonical[a] = canonical[b] = f"{a} / {b}"
    return pl.DataFrame(
        {"category": names, "canonical": [canonical[c] for c in names]}, schema=CATEGORIES_SCHEMA
    )


def _feature_names(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Tags that name a feature key of `attributes.features` (see the module docstring)."""
    return (
        con.sql(
            f"""
        WITH keys AS (SELECT item_id, unnest(vals) AS feature FROM attrs WHERE key = 'features'),
        tags AS (SELECT DISTINCT item_id, unnest(tags) AS name FROM items),
        nk AS (SELECT feature, count(DISTINCT item_id) AS n_key FROM keys GROUP BY feature),
        nt AS (SELECT name, count(DISTINCT item_id) AS n_tag FROM tags GROUP BY name),
        both_ AS (
            SELECT t.name, k.feature, count(DISTINCT t.item_id) AS n
            FROM tags t JOIN keys k ON k.item_id = t.item_id GROUP BY ALL
        )
        SELECT b.name, b.feature
        FROM both_ b JOIN nk USING (feature) JOIN nt USING (name)
        WHERE b.n >= {FEATURE_MIN_ITEMS} AND b.n >= {FEATURE_PRECISION} * nt.n_tag
          AND b.n >= {FEATURE_RECALL} * nk.n_key
        ORDER BY b.name, b.feature
        """
        )
        .pl()
        .cast({"name": pl.String, "feature": pl.String})
    )


def _mark_ambiguous(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """feature_names + ambiguous (see FEATURE_AMBIGUITY)."""
    return (
        con.sql(
            f"""
            WITH w AS (
                SELECT t.name, max(l.weight) AS weight
                FROM (SELECT name, unnest({tokens_sql("name")}) AS token FROM feature_names) t
                JOIN lexicon_v l USING (token)
                GROUP BY t.name
            )
            SELECT f.name, f.feature, coalesce(w.weight >= {FEATURE_AMBIGUITY}, false) AS ambiguous
            FROM feature_names f LEFT JOIN w USING (name)
            ORDER BY f.name, f.feature
            """
        )
        .pl()
        .cast(FEATURES_SCHEMA)
    )


def _item_facts(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    """Per item: canonical category, price, feature keys (from attributes or a feature tag)."""
    return (
        con.sql(
            """
        WITH keys AS (
            SELECT item_id, unnest(vals) AS feature FROM attrs WHERE key = 'features'
            UNION
            SELECT i.item_id, f.feature
            FROM (SELECT item_id, unnest(tags) AS name FROM items) i
            JOIN feature_names f ON f.name = i.name
        ),
        per_item AS (SELECT item_id, list(DISTINCT feature ORDER BY feature) AS features
                     FROM keys GROUP BY item_id)
        SELECT i.item_id, c.canonical, CAST(i.price AS DOUBLE) AS price,
               coalesce(p.features, CAST([] AS VARCHAR[])) AS features
        FROM items i
        LEFT JOIN categories c ON c.category = i.category
        LEFT JOIN per_item p ON p.item_id = i.item_id
        ORDER BY i.item_id
        """
        )
        .pl()
        .cast(ITEM_FACTS_SCHEMA)
    )


def _lexicon(con: duckdb.DuckDBPyConnection) -> pl.DataFrame:
    not_text = ", ".join(f"'{k}'" for k in NOT_TEXT_KEYS)
    return (
        con.sql(
            f"""
        WITH texts AS (
            SELECT item_id, coalesce(title, '') || ' ' || coalesce(category, '') AS text
            FROM items
            UNION ALL
            SELECT t.item_id, t.name AS text
            FROM (SELECT item_id, unnest(tags) AS name FROM items) t
            ANTI JOIN feature_names f ON f.name = t.name
            UNION ALL
            SELECT item_id, array_to_string(vals, ' ') AS text
            FROM attrs WHERE key NOT IN ({not_text})
        ),
        tok AS (
            SELECT DISTINCT t.item_id, f.canonical, unnest({tokens_sql("t.text")}) AS token
            FROM texts t JOIN item_facts f ON f.item_id = t.item_id
            WHERE f.canonical IS NOT NULL
        ),
        n AS (SELECT canonical, count(*) AS n FROM item_facts WHERE canonical IS NOT NULL
              GROUP BY canonical),
        df AS (SELECT token, canonical, count(*) / any_value(n.n) AS df
               FROM tok JOIN n USING (canonical) GROUP BY token, canonical)
        SELECT token, canonical, df * df / sum(df) OVER (PARTITION BY token) AS weight
        FROM df
        ORDER BY token, canonical
        """
        )
        .pl()
        .cast(WEIGHTS_SCHEMA)
    )


def parsed_queries_sql(queries: str, features: str) -> str:
    """SELECT query, price_cap, feature, feature_ambiguous, tokens over the distinct queries of
    `queries` (a relation with a `query` column): the stated price cap, the feature named (the
    longest feature name the query contains; whether that name may be the subject itself) and
    the tokens of what is left (the query's subject)."""
    cap = " ".join(
        f"WHEN regexp_matches(query, '{p}') THEN regexp_extract(query, '{p}', 1)"
        for p in CAP_PATTERNS
    )
    stripped = "query"
    for p in CAP_PATTERNS:
        stripped = f"regexp_replace({stripped}, '{p}', ' ', 'g')"
    return f"""
WITH q AS (
    SELECT query, TRY_CAST(CASE {cap} END AS DOUBLE) AS price_cap, lower({stripped}) AS rest
    FROM (SELECT DISTINCT query FROM {queries} WHERE query IS NOT NULL)
),
named AS (
    SELECT q.query, arg_max(f.name, (length(f.name), f.name)) AS name,
           arg_max(f.feature, (length(f.name), f.name)) AS feature,
           arg_max(f.ambiguous, (length(f.name), f.name)) AS feature_ambiguous
    FROM q JOIN {features} f ON contains(lower(q.query), lower(f.name))
    GROUP BY q.query
),
subject AS (
    SELECT q.query, q.price_cap, n.feature, coalesce(n.feature_ambiguous, false) AS feature_ambiguous,
           CASE WHEN n.name IS NULL THEN q.rest ELSE replace(q.rest, lower(n.name), ' ') END
               AS rest
    FROM q LEFT JOIN named n ON n.query = q.query
)
SELECT query, price_cap, feature, feature_ambiguous, {tokens_sql("rest")} AS tokens
FROM subject
"""


def query_intents(queries: pl.DataFrame, vocabulary: DomainVocabulary) -> pl.DataFrame:
    """Per distinct query: price_cap, feature, intent (canonical category or null) and
    intent_confidence in [0, 1]: (best - second best score) / best, times min(1, best /
    INTENT_SATURATION), over the catalog lexicon and the experts' query evidence: a clear winner
    on little evidence is not a confident one."""
    con = duckdb.connect()
    try:
        con.register("queries", queries.select("query"))
        con.register("feature_names", vocabulary.features)
        con.register("lexicon", vocabulary.lexicon)
        con.register("evidence", vocabulary.query_evidence)
        return con.sql(
            f"""
            WITH parsed AS ({parsed_queries_sql("queries", "feature_names")}),
            qt AS (SELECT query, unnest(tokens) AS token FROM parsed),
            scores AS (
                SELECT query, canonical, sum(weight) AS score FROM (
                    SELECT qt.query, l.canonical, l.weight FROM qt JOIN lexicon l USING (token)
                    UNION ALL
                    SELECT qt.query, e.canonical, e.weight FROM qt JOIN evidence e USING (token)
                ) GROUP BY ALL
            ),
            ranked AS (
                SELECT *, row_number() OVER (PARTITION BY query ORDER BY score DESC, canonical)
                    AS r
                FROM scores
            ),
            best AS (
                SELECT query, max(CASE WHEN r = 1 THEN canonical END) AS intent,
                       max(CASE WHEN r = 1 THEN score END) AS s1,
                       coalesce(max(CASE WHEN r = 2 THEN score END), 0.0) AS s2
                FROM ranked GROUP BY query
            )
            SELECT p.query, p.price_cap, p.feature, p.feature_ambiguous, b.intent,
                   CASE WHEN b.s1 > 0
                        THEN (b.s1 - b.s2) / b.s1 * least(1.0, b.s1 / {INTENT_SATURATION})
                        ELSE 0.0 END AS intent_confidence
            FROM parsed p LEFT JOIN best b ON b.query = p.query
            ORDER BY p.query
            """
        ).pl()
    finally:
        con.close()


def _query_evidence(con: duckdb.DuckDBPyConnection, vocabulary: DomainVocabulary) -> pl.DataFrame:
    """token -> canonical weights from the experts' exact (3) labels (see the module docstring)."""
    con.register("feature_names_v", vocabulary.features)
    return (
        con.sql(
            f"""
        WITH parsed AS ({parsed_queries_sql("annotations", "feature_names_v")}),
        exact AS (
            SELECT p.tokens, f.canonical
            FROM annotations a
            JOIN parsed p ON p.query = a.query
            JOIN item_facts f ON f.item_id = a.item_id
            WHERE a.label = 3 AND f.canonical IS NOT NULL
        ),
        tc AS (SELECT token, canonical, count(*) AS n
               FROM (SELECT unnest(tokens) AS token, canonical FROM exact) GROUP BY ALL)
        SELECT token, canonical,
               n / sum(n) OVER (PARTITION BY token)
                 * least(1.0, sum(n) OVER (PARTITION BY token) / {EVIDENCE_SATURATION}) AS weight
        FROM tc
        ORDER BY token, canonical
        """
        )
        .pl()
        .cast(WEIGHTS_SCHEMA)
    )


def _relations(con: duckdb.DuckDBPyConnection, vocabulary: DomainVocabulary) -> pl.DataFrame:
    """(query category, item category) -> the experts' majority grade, for category pairs whose
    query side is clear (intent confidence >= EVIDENCE_MARGIN); ties go to the lower grade."""
    intents = query_intents(con.sql("SELECT DISTINCT query FROM annotations").pl(), vocabulary)
    con.register("annotation_intents", intents)
    votes = con.sql(
        f"""
        SELECT q.intent AS query_canonical, f.canonical AS item_canonical, a.label,
               count(*) AS n
        FROM annotations a
        JOIN annotation_intents q ON q.query = a.query
        JOIN item_facts f ON f.item_id = a.item_id
        WHERE q.intent IS NOT NULL AND q.intent_confidence >= {EVIDENCE_MARGIN}
          AND f.canonical IS NOT NULL AND f.canonical <> q.intent
        GROUP BY ALL
        ORDER BY ALL
        """
    ).pl()
    rows = []
    for (a, b), group in votes.group_by(["query_canonical", "item_canonical"], maintain_order=True):
        counts = Counter(dict(zip(group["label"].to_list(), group["n"].to_list(), strict=True)))
        total = sum(counts.values())
        grade, n = max(counts.items(), key=lambda kv: (kv[1], -kv[0]))
        confidence = n / total * min(1.0, total / RELATION_SATURATION)
        rows.append((a, b, grade, total, confidence))
    return pl.DataFrame(rows, schema=RELATIONS_SCHEMA, orient="row")
