"""Prompts name the domain's platform and service from its domain.toml, through one helper."""

from __future__ import annotations

import pytest

from assets.dimensions.common.wording import domain_template, worded
from assets.ingest.domain_settings import ingest_domain_settings
from core.templates import TemplateError, load_template
from core.warehouse import Warehouse
from schemas.dimensions import get_dimension
from schemas.domain import DomainSettings, Wording, domain_file
from schemas.entries import DIMENSIONS

# Every registered dimension's template (the registry: schemas/dimensions.py).
DIMENSION_TEMPLATES = [get_dimension(d).template for d in DIMENSIONS]


@pytest.mark.parametrize("name", DIMENSION_TEMPLATES)
def test_every_dimension_template_takes_the_wording(name):
    raw = load_template(name)
    assert "life-services" not in raw.body and {"platform", "service"} <= set(raw.fields)
    default = worded(raw, DomainSettings(), "food_delivery")
    assert "on a local life-services platform (food delivery)." in default.body
    grocery = worded(
        raw,
        DomainSettings(wording=Wording(platform="an online grocery app", service="groceries")),
        "instacart",
    )
    assert "on an online grocery app (groceries)." in grocery.body
    assert {"platform", "service"}.isdisjoint(grocery.fields)
    assert (grocery.ref, grocery.sha256) == (raw.ref, raw.sha256)  # provenance: the file's


def test_an_unworded_template_cannot_render():
    with pytest.raises(TemplateError, match="needs column 'platform'"):
        load_template("query_item_relevance").render_one(query="q", item_text="i")


def test_domain_template_reads_the_recorded_settings(tmp_path):
    logs = tmp_path / "logs"
    (logs / "boston").mkdir(parents=True)
    settings = DomainSettings(wording=Wording(platform="a local business review platform"))
    domain_file(logs, "boston").write_text(settings.to_toml(), encoding="utf-8")
    wh = Warehouse(tmp_path / "wh.duckdb")
    ingest_domain_settings(wh, logs, "boston")
    body = domain_template(wh, "item_ranking", "boston").body
    assert "on a local business review platform (boston)." in body
