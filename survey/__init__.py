"""Survey exports: codebook, import, validation, pseudonymisation, weighting, join with an audit.

The stage: ``chanaudit.survey.run_import(export, out, codebook=None, salt=None)``,
``run_summary(source, margins=None, out=None)``, ``run_reproduce(source, study, margins)`` (a survey study,
weighted) and ``run_join(source, audit, key=None, out=None)``."""

from chanaudit.survey.stage import (
    SurveySummary,
    load_margins,
    read_survey,
    run_import,
    run_join,
    run_reproduce,
    run_summary,
)

__all__ = ["SurveySummary", "load_margins", "read_survey", "run_import", "run_join", "run_reproduce",
           "run_summary"]
