"""Where the pipeline may read, write and delete: one domain-name rule, and confined paths.

A domain name becomes a Dagster partition key, a folder under the log root and a folder under the
warehouse's file tables. Partition keys can be added by anyone with access to the Dagster UI or
API, so a name is checked wherever one enters (CLI, sensor, asset bodies) against ONE rule: a
single path component of lower-case ASCII letters, digits, `_` and `-`, starting with a letter or
digit, at most 64 characters. `..`, `/`, `\\`, spaces, upper case, NUL bytes, and Unicode
lookalikes (full-width or Cyrillic letters) all fail it.

`confined(root, path)` resolves `path` (following symlinks) and refuses it unless it stays inside
`root` (also resolved): a symlinked folder or file pointing out of the log root is refused with a
message rather than followed, and nothing outside a table's folder is ever deleted.
"""

from __future__ import annotations

import os
import re
from pathlib import Path

DOMAIN_RULE = r"^[a-z0-9][a-z0-9_-]{0,63}$"
_DOMAIN_RX = re.compile(DOMAIN_RULE, re.ASCII)
DOMAIN_RULE_TEXT = (
    "a domain name must be 1-64 characters of lower-case ASCII letters, digits, '_' and '-', "
    "starting with a letter or digit"
)


class PathRefused(ValueError):
    """A name or path that would leave its root; the message is a sentence for users."""


def is_domain_name(name: object) -> bool:
    return isinstance(name, str) and _DOMAIN_RX.fullmatch(name) is not None


def check_domain(name: object) -> str:
    """`name` if it is a valid domain name; otherwise a PathRefused saying why."""
    if not is_domain_name(name):
        raise PathRefused(f"Domain name {_shown(name)} is refused: {DOMAIN_RULE_TEXT}.")
    return name  # type: ignore[return-value]


def _shown(name: object) -> str:
    """The name for a message, with control characters made visible and the length capped."""
    text = repr(name) if not isinstance(name, str) else repr(name[:80])
    return text + ("…" if isinstance(name, str) and len(name) > 80 else "")


def confined(root: Path | str, path: Path | str, what: str = "path") -> Path:
    """`path` resolved (symlinks followed), if it lies inside the resolved `root`; else refused.

    A relative `path` is taken relative to `root`."""
    root_resolved = Path(root).resolve()
    candidate = Path(path)
    if not candidate.is_absolute():
        candidate = root_resolved / candidate
    if "\x00" in str(candidate):
        raise PathRefused(f"The {what} {_shown(str(path))} contains a NUL byte and is refused.")
    resolved = candidate.resolve()
    if resolved != root_resolved and root_resolved not in resolved.parents:
        link = " (it is or passes through a symbolic link)" if _has_link(candidate) else ""
        raise PathRefused(
            f"The {what} {candidate} is refused: it resolves to {resolved}, outside "
            f"{root_resolved}{link}."
        )
    return resolved


def _has_link(path: Path) -> bool:
    for p in (path, *path.parents):
        try:
            if p.is_symlink():
                return True
        except OSError:
            return False
    return False


def domain_folder(root: Path | str, domain: str) -> Path:
    """`<root>/<domain>` after checking the name and that the folder stays inside `root`."""
    check_domain(domain)
    return confined(root, Path(root) / domain, what=f"folder of domain {domain!r}")


# Owner-only modes for what holds raw or derived personal data (warehouse, quarantine, runs).
PRIVATE_DIR_MODE = 0o700
PRIVATE_FILE_MODE = 0o600
PRIVATE_UMASK = 0o077


def private_umask() -> int:
    """Make files and folders this process creates from now on owner-only; returns the old mask."""
    return os.umask(PRIVATE_UMASK)


def make_private(path: Path | str) -> None:
    """chmod `path` owner-only (0700 for a folder, 0600 for a file), if it exists."""
    p = Path(path)
    try:
        if p.is_dir():
            p.chmod(PRIVATE_DIR_MODE)
        elif p.exists():
            p.chmod(PRIVATE_FILE_MODE)
    except PermissionError:
        pass  # not ours: nothing we may change


def private_dir(path: Path | str) -> Path:
    """Create `path` (and parents) and make it owner-only."""
    p = Path(path)
    p.mkdir(parents=True, exist_ok=True)
    make_private(p)
    return p
