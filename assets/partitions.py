"""Domain partitions: one per folder under the log root, added by the new-domain sensor or the CLI."""

from dagster import DynamicPartitionsDefinition

DOMAINS = DynamicPartitionsDefinition(name="domain")
