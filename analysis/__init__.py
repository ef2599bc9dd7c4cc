"""Statistics as tidy DataFrames: prevalence with intervals, combinations, comparisons,
regression, study reproduction and the consistency of published percentages.

The stage: ``chanaudit.analysis.run(folder, by=(), method="wilson", conf=0.95, min_group_n=10)`` and
``chanaudit.analysis.reproduce_study(data, study, method="wilson", conf=0.95, out=None)``; for a notebook,
the functions they call on a sites table: ``prevalence``, ``reproduce``, ``load_study``."""

from chanaudit.analysis.prevalence import prevalence
from chanaudit.analysis.reproduce import reproduce
from chanaudit.analysis.stage import (
    DEFAULT_STUDY,
    Reproduction,
    check_options,
    reproduce_study,
    run,
)
from chanaudit.analysis.studies import load_study

__all__ = ["DEFAULT_STUDY", "Reproduction", "check_options", "load_study", "prevalence", "reproduce",
           "reproduce_study", "run"]
