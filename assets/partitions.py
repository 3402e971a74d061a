"""Dynamic partitions: domains (one per folder under the log root, added by the new-domain sensor
or the CLI) and scorers (one per evaluation name, added by `recrm eval`).

Anyone with access to the Dagster UI or API can add a partition key, so an asset never trusts
one: `domain_key(context)` checks it against the domain rule (`core.paths`) before the key names
a folder, a warehouse partition or a file-table folder.
"""

from dagster import DynamicPartitionsDefinition

from core.paths import check_domain

DOMAINS = DynamicPartitionsDefinition(name="domain")
SCORERS = DynamicPartitionsDefinition(name="scorer")


def domain_key(context) -> str:
    """The run's domain partition key, refused unless it passes the domain rule."""
    return check_domain(context.partition_key)
