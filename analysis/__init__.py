"""Statistics as tidy DataFrames: prevalence with intervals, combinations, comparisons,
regression, study reproduction and the consistency of published percentages."""
