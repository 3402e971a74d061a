"""A service domain's own settings: `<logs_root>/<domain>/domain.toml`, beside its log files.

Today the file holds what prompts need to state facts about the domain correctly: the IANA time
zone its users live in (log timestamps are naive UTC, as the input contract says; prompts show
local time and name the zone). It is the one place for per-domain settings, so it grows by
adding fields to `DomainSettings` (unknown keys are rejected, so a misspelt key fails loudly
instead of being ignored). An absent file means the defaults: UTC.

```toml
# sample_logs/food_delivery/domain.toml
time_zone = "Asia/Shanghai"
```
"""

from __future__ import annotations

import json
import tomllib
from pathlib import Path
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

from pydantic import BaseModel, ConfigDict, ValidationError, field_validator

DOMAIN_FILE = "domain.toml"
DEFAULT_TIME_ZONE = "UTC"


class DomainSettingsError(ValueError):
    """A domain file that cannot be used; the message names the file and the reason."""


class DomainSettings(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    time_zone: str = DEFAULT_TIME_ZONE  # IANA name, e.g. "Asia/Shanghai"

    @field_validator("time_zone")
    @classmethod
    def _known_zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError) as exc:
            raise ValueError(f"unknown IANA time zone {value!r} (e.g. 'Asia/Shanghai')") from exc
        return value

    def to_toml(self) -> str:
        """The file's text (every field, so a reader sees what applies)."""
        lines = [
            "# Settings of this service domain (schemas/domain.py).",
            "# time_zone: IANA zone of the domain's users; prompts show times in it.",
        ]
        for name, value in self.model_dump().items():
            lines.append(f"{name} = {json.dumps(value, ensure_ascii=False)}")
        return "\n".join(lines) + "\n"


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
        reasons = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or 'file'}: {e['msg']}" for e in exc.errors()
        )
        raise DomainSettingsError(f"{path}: {reasons}") from exc
