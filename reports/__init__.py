"""Publication charts (matplotlib) and the report document, drawn from chanaudit.analysis tables.

The stage: ``chanaudit.reports.build(folder, lang="ru", out=None, formats=("png", "svg", "pdf"),
min_group_n=10) -> ReportPaths``. Importing this package selects no matplotlib backend and changes no
global setting (see :mod:`chanaudit.reports.style`)."""

from chanaudit.reports.document import ReportPaths, build_report
from chanaudit.reports.stage import build, load_tables

__all__ = ["ReportPaths", "build", "build_report", "load_tables"]
