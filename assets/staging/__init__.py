"""staging layer."""
