"""Dynamic partitions: domains (one per folder under the log root, added by the new-domain sensor
or the CLI) and scorers (one per evaluation name, added by `recrm eval`)."""

from dagster import DynamicPartitionsDefinition

DOMAINS = DynamicPartitionsDefinition(name="domain")
SCORERS = DynamicPartitionsDefinition(name="scorer")
