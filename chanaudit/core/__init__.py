"""The bottom layer: the audit contract, the audit folder, safe table I/O, number formatting and the
named errors. It imports no stage (crawler, scoring, survey, analysis, reports); every stage imports it."""
