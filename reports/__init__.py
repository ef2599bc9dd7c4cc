"""Publication charts (matplotlib) and the report document, drawn from chanaudit.analysis tables."""
