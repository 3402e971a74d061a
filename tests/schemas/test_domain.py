"""`<logs_root>/<domain>/domain.toml`: one typed model, one loader, clear errors."""

from __future__ import annotations

import pytest

from schemas.domain import (
    DEFAULT_TIME_ZONE,
    DomainSettings,
    DomainSettingsError,
    domain_file,
    load_domain_settings,
)


def test_absent_file_means_utc(tmp_path):
    (tmp_path / "books").mkdir()
    assert load_domain_settings(tmp_path, "books") == DomainSettings()
    assert DomainSettings().time_zone == DEFAULT_TIME_ZONE == "UTC"


def test_written_file_loads_back(tmp_path):
    (tmp_path / "hotel").mkdir()
    settings = DomainSettings(time_zone="Asia/Shanghai")
    domain_file(tmp_path, "hotel").write_text(settings.to_toml(), encoding="utf-8")
    assert load_domain_settings(tmp_path, "hotel") == settings


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ('time_zone = "Mars/Olympus"\n', "unknown IANA time zone 'Mars/Olympus'"),
        ('time_zone = "Asia/Shanghai"\ntimezone = "UTC"\n', "timezone: Extra inputs"),
        ("time_zone = \n", "not valid TOML"),
        ("time_zone = 8\n", "time_zone: Input should be a valid string"),
    ],
)
def test_bad_file_names_file_and_reason(tmp_path, text, reason):
    (tmp_path / "hotel").mkdir()
    path = domain_file(tmp_path, "hotel")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DomainSettingsError) as err:
        load_domain_settings(tmp_path, "hotel")
    assert str(path) in str(err.value) and reason in str(err.value)


def test_full_mapping_round_trips_through_toml(tmp_path):
    from schemas.domain import EventMapping, Signal, SourceSpec, TableMapping, Wording

    (tmp_path / "groceries").mkdir()
    settings = DomainSettings(
        time_zone="America/New_York",
        currency="USD",
        languages=["en"],
        source=SourceSpec(format="instacart", description='orders "prior" set'),
        wording=Wording(platform="an online grocery delivery app", service="grocery delivery"),
        tables={
            "items": TableMapping(
                file="products",
                columns={"item_id": "product_id", "title": "product_name"},
                defaults={"price": 1.5, "city": "Boston"},
            )
        },
        events=EventMapping(map={"purchase": "order"}, ignore=["refund"]),
        signals=[Signal(table="events", column="reordered", kind="reorder")],
    )
    domain_file(tmp_path, "groceries").write_text(settings.to_toml(), encoding="utf-8")
    assert load_domain_settings(tmp_path, "groceries") == settings
    assert settings.file_stem("items") == "products" and settings.file_stem("events") == "events"
    assert settings.service_phrase("groceries") == "grocery delivery"
    assert DomainSettings().service_phrase("food_delivery") == "food delivery"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        (
            '[events]\nmap = { pv = "view" }\n',
            "events: map.pv: 'view' is not a contract event type",
        ),
        ('[events]\nmap = { pv = "click" }\nignore = ["pv"]\n', "both mapped and ignored"),
        ('[tables.item]\nfile = "products"\n', "tables: 'item' is not a contract table"),
        (
            '[tables.items.columns]\nprise = "price_usd"\n',
            "tables: items: 'prise' is not a column of the contract table 'items'",
        ),
        ('[tables.items.defaults]\nitem_id = "x"\n', "items.defaults.item_id: a required column"),
        ('[tables.items]\nfile = "events"\n', "file stem(s) ['events'] name more than one table"),
        ('currency = "dollars"\n', "currency: 'dollars' is not an ISO 4217 code"),
        ('languages = ["English"]\n', "languages: 'English' is not a BCP 47 language code"),
        ('[source]\nformat = "csvish"\n', "source.format: unknown source format 'csvish'"),
        ('[wording]\nplatfrom = "x"\n', "wording.platfrom: Extra inputs are not permitted"),
        ('[[signals]]\ntable = "events"\ncolumn = "r"\nkind = "mood"\n', "unknown signal kind"),
    ],
)
def test_each_mapping_mistake_names_file_and_key(tmp_path, text, reason):
    (tmp_path / "shop").mkdir()
    path = domain_file(tmp_path, "shop")
    path.write_text(text, encoding="utf-8")
    with pytest.raises(DomainSettingsError) as err:
        load_domain_settings(tmp_path, "shop")
    assert str(path) in str(err.value) and reason in str(err.value)
