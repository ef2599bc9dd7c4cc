"""False-flag rate of the published-vs-reproduced rules (issue 14, item 1): docs/statistics.md quotes this.

    .venv/bin/python benchmarks/false_flags.py [reps]

Both samples (ours and the study's, n = 300 each) come from one population share p = 0.21, 0.51, 0.77;
the study's share is published rounded to 1%. Every "lower" / "higher" is a false flag. Seeded: the
same numbers every run.
"""

import sys

from chanaudit.analysis.calibration import false_flag_rates

if __name__ == "__main__":
    reps = int(sys.argv[1]) if len(sys.argv) > 1 else 20_000
    table = false_flag_rates(reps=reps)
    for _, r in table.iterrows():
        print(f"p = {r['p']:.2f}  {r['rule']:<10}  {r['flagged']:>5} of {r['reps']}  "
              f"{r['rate']:.1%} (95% CI {r['ci_low']:.1%} to {r['ci_high']:.1%})")
