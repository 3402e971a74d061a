"""item_ranking: one entry per request with a candidate list, ranked by logged engagement."""
