"""The domain's wording in prompts: templates say `{{platform}}` and `{{service}}` where they
name the platform and what it offers, and every dimension renders its template through
`domain_template`, which puts in the phrases of the domain's `domain.toml` (`[wording]`,
schemas/domain.py; defaults: "a local life-services platform" and the domain's name in words).
Provenance keeps the template file's version and hash; the wording is recorded with the domain's
settings in the manifest."""

from __future__ import annotations

import dataclasses

from assets.dimensions.common.render_sql import PLACEHOLDER
from assets.ingest.domain_settings import read_domain_settings
from core.templates import PromptTemplate, load_template
from core.warehouse import Warehouse
from schemas.domain import DomainSettings

WORDING_FIELDS = ("platform", "service")


def wording_values(settings: DomainSettings, domain: str) -> dict[str, str]:
    return {"platform": settings.wording.platform, "service": settings.service_phrase(domain)}


def worded(template: PromptTemplate, settings: DomainSettings, domain: str) -> PromptTemplate:
    """`template` with the wording placeholders replaced by the domain's phrases."""
    values = wording_values(settings, domain)

    def put(match) -> str:
        return values.get(match.group(1), match.group(0))

    return dataclasses.replace(template, body=PLACEHOLDER.sub(put, template.body))


def domain_template(wh: Warehouse, name: str, domain: str) -> PromptTemplate:
    """The latest version of template `name` in the wording `domain` recorded on ingest."""
    return worded(load_template(name), read_domain_settings(wh, domain), domain)
