"""query_item_relevance: (query, shown item) pairs graded on the ESCI scale 0-3."""
