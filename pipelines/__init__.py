"""The Dagster code location (`definitions`), its jobs, schedules, sensors and resources, and the
`recrm` command line, which materializes the same assets in process."""
