"""A service domain's own settings: `<logs_root>/<domain>/domain.toml`, beside its log files.

One file says everything the pipeline must know about a domain that its log files do not:

- how its files map onto the input contract (../shared/spec/raw-logs.md): the source format they
  came from, per contract table the file name stem and column renames, defaults for optional
  columns, the event-type map and the event types deliberately left out. An event type that is
  neither in the contract, nor mapped, nor ignored stops the ingest of the table (a purchase
  must never be counted as a click because its name was unknown);
- the facts prompts state: the IANA time zone of its users (log timestamps are naive UTC; prompts
  show local time and name the zone), the currency of prices, the languages of its text, and the
  wording of the platform and the service (`[wording]`), so that a grocery domain is not called
  "a local life-services platform";
- which extra columns carry signals (a reorder flag, a rating) that labels may use.

Unknown keys are rejected at every level, so a misspelt key fails loudly instead of being
ignored; every error names the file and the key. An absent file means the defaults: a drop that
already follows the contract, in UTC, with the generic wording.

```toml
# <logs_root>/groceries/domain.toml
time_zone = "America/New_York"
currency = "USD"
languages = ["en"]

[source]
format = "instacart"

[wording]
platform = "an online grocery delivery app"
service = "grocery delivery"

[tables.items]
file = "products"                               # products.csv holds the items
columns = { item_id = "product_id", title = "product_name" }   # contract name = source name
defaults = { category = "groceries" }

[events]
map = { purchase = "order", view = "click" }    # source event type = contract event type
ignore = ["refund"]                             # left out on purpose, counted, not quarantined

[[signals]]
table = "events"
column = "reordered"
kind = "reorder"
level = 2        # a reorder: engagement 2 (optional; without it the signal is only kept)
otherwise = 1    # a first purchase (reordered = 0): engagement 1
```
"""

from __future__ import annotations

import re
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from schemas.logs import CONTRACT_TABLES, EVENT_TYPES

DOMAIN_FILE = "domain.toml"
DEFAULT_TIME_ZONE = "UTC"
DEFAULT_PLATFORM = "a local life-services platform"
SOURCE_FORMATS = (
    "contract",  # files already named and shaped like the contract
    "recbole",
    "taobao_userbehavior",
    "instacart",
    "yelp",
    "esci",
    "movielens",
    "custom",  # hand-written mapping of any other source
)
# What an extra column may carry; `inspect` reports them and labelers may read them.
SIGNAL_KINDS = ("reorder", "rating", "likes", "dwell_seconds", "quantity")
_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_ .-]*")
_LANGUAGE = re.compile(r"[a-z]{2,3}(-[A-Za-z0-9]{2,8})*")


class DomainSettingsError(ValueError):
    """A domain file that cannot be used; the message names the file and the reason."""


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class SourceSpec(_Strict):
    format: str = "contract"
    description: str | None = None  # free text: where the files came from

    @field_validator("format")
    @classmethod
    def _known_format(cls, value: str) -> str:
        if value not in SOURCE_FORMATS:
            raise ValueError(
                f"unknown source format {value!r} (one of {', '.join(SOURCE_FORMATS)})"
            )
        return value


class Wording(_Strict):
    """How prompts name the domain: `platform` is a noun phrase with its article ("an online
    grocery delivery app"), `service` what the domain offers ("grocery delivery"; default: the
    domain's folder name in words)."""

    platform: str = DEFAULT_PLATFORM
    service: str | None = None

    @field_validator("platform", "service")
    @classmethod
    def _plain_phrase(cls, value: str | None) -> str | None:
        if value is None:
            return value
        value = value.strip()
        if not value or "\n" in value or "{{" in value:
            raise ValueError("a short phrase on one line, without '{{'")
        return value


class TableMapping(_Strict):
    """How one contract table's files are named and shaped in the source."""

    file: str | None = None  # file name stem in the domain folder (default: the table's name)
    columns: dict[str, str] = Field(default_factory=dict)  # contract column -> source column
    defaults: dict[str, str | int | float | bool] = Field(default_factory=dict)

    @field_validator("file")
    @classmethod
    def _stem(cls, value: str | None) -> str | None:
        if value is not None and (not _NAME.fullmatch(value) or "/" in value):
            raise ValueError(f"{value!r} is not a file name stem (e.g. 'products')")
        return value


class EventMapping(_Strict):
    map: dict[str, str] = Field(default_factory=dict)  # source event type -> contract event type
    ignore: list[str] = Field(default_factory=list)  # source event types left out on purpose

    @model_validator(mode="after")
    def _consistent(self) -> EventMapping:
        for source, target in self.map.items():
            if target not in EVENT_TYPES:
                raise ValueError(
                    f"map.{source}: {target!r} is not a contract event type "
                    f"({', '.join(EVENT_TYPES)})"
                )
        both = sorted(set(self.map) & set(self.ignore))
        if both:
            raise ValueError(f"event type(s) {both} are both mapped and ignored")
        return self


class NegativeSampling(_Strict):
    """Where impressions were not logged: `per_request` items drawn per request from the
    domain's catalog, weighted by popularity (events per item), seeded, never an item the
    request engaged with, stand in for what was shown and ignored. Entries built on them say
    `label_source = "sampled"`. 0 = off: without impressions, no behaviour or ranking entries."""

    per_request: int = Field(0, ge=0, le=100)
    seed: int = 0


class Signal(_Strict):
    """An extra column that carries a signal. With `level` (events only) it feeds the
    behaviour and ranking labels: an event whose column is set (1, true, yes, or a number
    above 0) gives its (request, item) engagement `level`; with `otherwise`, an event whose
    column is present but not set (0, false, no) gives `otherwise` instead of its event type's
    level. E.g. Instacart's `reordered`: a reorder is level 2, a first purchase level 1."""

    table: str
    column: str  # the source column (kept in the row's `extra`)
    kind: str
    level: int | None = Field(None, ge=1, le=2)
    otherwise: int | None = Field(None, ge=1, le=2)

    @model_validator(mode="after")
    def _levels_on_events(self) -> Signal:
        if (self.level is not None or self.otherwise is not None) and self.table != "events":
            raise ValueError(
                f"{self.column}: level/otherwise set an engagement level, so the signal must be "
                f"on the events table (not {self.table!r})"
            )
        if self.otherwise is not None and self.level is None:
            raise ValueError(f"{self.column}: otherwise needs a level for the set signal")
        return self

    @field_validator("table")
    @classmethod
    def _table(cls, value: str) -> str:
        if value not in CONTRACT_TABLES:
            raise ValueError(f"unknown contract table {value!r}")
        return value

    @field_validator("kind")
    @classmethod
    def _kind(cls, value: str) -> str:
        if value not in SIGNAL_KINDS:
            raise ValueError(f"unknown signal kind {value!r} (one of {', '.join(SIGNAL_KINDS)})")
        return value


class DomainSettings(_Strict):
    time_zone: str = DEFAULT_TIME_ZONE  # IANA name, e.g. "Asia/Shanghai"
    currency: str | None = None  # ISO 4217 code of prices, e.g. "CNY"
    languages: list[str] = Field(default_factory=list)  # BCP 47 codes of the text, e.g. ["zh"]
    source: SourceSpec = Field(default_factory=SourceSpec)
    wording: Wording = Field(default_factory=Wording)
    tables: dict[str, TableMapping] = Field(default_factory=dict)
    events: EventMapping = Field(default_factory=EventMapping)
    negatives: NegativeSampling = Field(default_factory=NegativeSampling)
    signals: list[Signal] = Field(default_factory=list)

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. 'Asia/Shanghai')") from exc
        return value

    @field_validator("currency")
    @classmethod
    def _iso_currency(cls, value: str | None) -> str | None:
        if value is not None and not re.fullmatch(r"[A-Z]{3}", value):
            raise ValueError(f"{value!r} is not an ISO 4217 code (e.g. 'USD', 'CNY')")
        return value

    @field_validator("languages")
    @classmethod
    def _language_codes(cls, value: list[str]) -> list[str]:
        for code in value:
            if not _LANGUAGE.fullmatch(code):
                raise ValueError(f"{code!r} is not a BCP 47 language code (e.g. 'en', 'zh-CN')")
        return value

    @field_validator("tables")
    @classmethod
    def _contract_tables(cls, value: dict[str, TableMapping]) -> dict[str, TableMapping]:
        for name, mapping in value.items():
            if name not in CONTRACT_TABLES:
                raise ValueError(f"{name!r} is not a contract table ({', '.join(CONTRACT_TABLES)})")
            contract = CONTRACT_TABLES[name]
            for col in [*mapping.columns, *mapping.defaults]:
                if col not in contract.columns:
                    raise ValueError(
                        f"{name}: {col!r} is not a column of the contract table {name!r} "
                        f"({', '.join(contract.columns)})"
                    )
            for col in mapping.defaults:
                if col in contract.required:
                    raise ValueError(
                        f"{name}.defaults.{col}: a required column cannot have a default "
                        "(every record must carry it)"
                    )
            sources = list(mapping.columns.values())
            twice = sorted({s for s in sources if sources.count(s) > 1})
            if twice:
                raise ValueError(f"{name}.columns: source column(s) {twice} mapped twice")
        return value

    @model_validator(mode="after")
    def _stems_distinct(self) -> DomainSettings:
        stems = [self.file_stem(t) for t in CONTRACT_TABLES]
        twice = sorted({s for s in stems if stems.count(s) > 1})
        if twice:
            raise ValueError(f"tables: file stem(s) {twice} name more than one table")
        return self

    def file_stem(self, table: str) -> str:
        """The file name stem of `table` in the domain folder."""
        mapping = self.tables.get(table)
        return mapping.file if mapping and mapping.file else table

    def table_mapping(self, table: str) -> TableMapping:
        return self.tables.get(table) or TableMapping()

    def service_phrase(self, domain: str) -> str:
        return self.wording.service or domain.replace("_", " ").replace("-", " ")

    def declared(self) -> dict:
        """The time zone and every setting that differs from its default."""
        return {"time_zone": self.time_zone, **self.model_dump(exclude_defaults=True)}

    def to_toml(self) -> str:
        """The file's text (the values that differ from the defaults, plus the time zone)."""
        data = self.declared()
        lines = [
            "# Settings of this service domain (schemas/domain.py).",
            "# time_zone: IANA zone of the domain's users; prompts show times in it.",
        ]
        lines += _toml_lines(data)
        return "\n".join(lines) + "\n"


def _toml_value(value) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int | float):
        return repr(value)
    if isinstance(value, str):
        escaped = value.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n")
        return f'"{escaped}"'
    if isinstance(value, list):
        return "[" + ", ".join(_toml_value(v) for v in value) + "]"
    if isinstance(value, dict):
        return (
            "{ " + ", ".join(f"{_toml_key(k)} = {_toml_value(v)}" for k, v in value.items()) + " }"
        )
    raise TypeError(f"cannot write {type(value).__name__} to TOML")


def _toml_key(key: str) -> str:
    return key if re.fullmatch(r"[A-Za-z0-9_-]+", key) else _toml_value(key)


def _toml_lines(data: dict, prefix: str = "") -> list[str]:
    """Scalars and inline tables first, then sub-tables, then arrays of tables."""
    lines, tables, arrays = [], [], []
    for key, value in data.items():
        section = prefix == "" and key in ("source", "wording", "events", "negatives")
        if isinstance(value, dict) and (
            section or any(isinstance(v, dict) for v in value.values())
        ):
            tables.append((key, value))
        elif isinstance(value, list) and value and all(isinstance(v, dict) for v in value):
            arrays.append((key, value))
        else:
            lines.append(f"{_toml_key(key)} = {_toml_value(value)}")
    for key, value in tables:
        lines += ["", f"[{prefix}{_toml_key(key)}]"]
        lines += _toml_lines(value, f"{prefix}{_toml_key(key)}.")
    for key, value in arrays:
        for element in value:
            lines += ["", f"[[{prefix}{_toml_key(key)}]]"]
            lines += _toml_lines(element, f"{prefix}{_toml_key(key)}.")
    return lines


def domain_file(logs_root: Path, domain: str) -> Path:
    """`<logs_root>/<domain>/domain.toml`; the domain name is checked and the file (a symbolic
    link included) must stay inside the log root (`core.paths`)."""
    from core.paths import PathRefused, confined, domain_folder

    path = domain_folder(logs_root, domain) / DOMAIN_FILE
    if path.exists() or path.is_symlink():
        try:
            confined(logs_root, path, what=f"settings file {domain}/{DOMAIN_FILE}")
        except PathRefused as exc:
            raise DomainSettingsError(str(exc)) from exc
    return path


def load_domain_settings(logs_root: Path, domain: str) -> DomainSettings:
    """The domain's settings from its `domain.toml`; the defaults when there is none."""
    path = domain_file(logs_root, domain)
    if not path.is_file():
        return DomainSettings()
    try:
        with path.open("rb") as fh:
            values = tomllib.load(fh)
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
        raise DomainSettingsError(f"{path}: not valid TOML: {exc}") from exc
    try:
        return DomainSettings(**values)
    except ValidationError as exc:
        raise DomainSettingsError(f"{path}: {settings_error_text(exc)}") from exc


def settings_error_text(exc: ValidationError) -> str:
    """One clause per mistake: `key.path: reason`."""
    return "; ".join(
        f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg'].removeprefix('Value error, ')}"
        for e in exc.errors()
    )
