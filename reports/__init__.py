"""Publication charts (matplotlib) and the report document, drawn from analysis tables."""
