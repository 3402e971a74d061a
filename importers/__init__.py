"""Importers: a public dataset in its published file layout -> a contract drop plus its
`domain.toml` (schemas/domain.py), ready for `recrm ingest`. One module per format, each a plain
function `import_<format>(src, out_root, domain) -> ImportResult`; `recrm import --format NAME`
picks one from `IMPORTERS`."""

from __future__ import annotations

from importers.common import ImportFailed, ImportResult, check_domain_name
from importers.esci import import_esci
from importers.instacart import import_instacart
from importers.movielens import import_movielens
from importers.recbole import import_recbole
from importers.taobao import import_taobao_userbehavior
from importers.yelp import import_yelp

IMPORTERS = {
    "recbole": import_recbole,
    "taobao": import_taobao_userbehavior,
    "instacart": import_instacart,
    "yelp": import_yelp,
    "esci": import_esci,
    "movielens": import_movielens,
}

__all__ = ["IMPORTERS", "ImportFailed", "ImportResult", "check_domain_name"]
