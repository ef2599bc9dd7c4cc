"""Survey exports: codebook, import with validation and pseudonymisation, weighting, join with an audit."""
