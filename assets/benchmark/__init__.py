"""benchmark: the cross-domain selection of every dimension to the size profile."""
