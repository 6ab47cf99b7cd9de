"""`python -m fuzz -n 100000`: a campaign on all cores (see docs/FUZZING.md)."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from .campaign import BAD, REGRESSIONS, format_table, run_campaign


def main(argv: list[str] | None = None) -> int:
    p = argparse.ArgumentParser(prog="python -m fuzz", description=__doc__)
    p.add_argument("-n", type=int, default=1000, help="inputs to try (default 1000)")
    p.add_argument("--seed", type=int, default=0, help="campaign seed (default 0)")
    p.add_argument("-j", "--jobs", type=int, default=0, help="workers (default: one per core)")
    p.add_argument("--no-reduce", action="store_true", help="do not reduce failures")
    p.add_argument("--save", nargs="?", const=str(REGRESSIONS), default=None, metavar="DIR",
                   help=f"save reduced failures as regression inputs (default dir {REGRESSIONS})")
    p.add_argument("--time-budget", type=float, default=None, metavar="S",
                   help="stop starting new inputs after S seconds")
    p.add_argument("--json", metavar="FILE", help="write the summary as JSON")
    p.add_argument("--quiet", action="store_true", help="no progress bar")
    p.add_argument("--reduce-budget", type=float, default=300.0, metavar="S",
                   help="seconds for reducing all failures (default 300)")
    args = p.parse_args(argv)

    def counted(summary: dict) -> None:
        # Printed before reduction starts, so a long reduction never hides the counts.
        print(format_table(summary), flush=True)
        if args.json:
            Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")

    summary = run_campaign(args.n, seed=args.seed, jobs=args.jobs, progress=not args.quiet,
                           reduce=not args.no_reduce,
                           save=Path(args.save) if args.save else None,
                           time_budget=args.time_budget, reduce_budget=args.reduce_budget,
                           on_counted=counted)
    for r in summary["regressions"]:
        where = f" -> {r['file']}" if "file" in r else ""
        print(f"- reduced {r['outcome']} `{r['signature']}`: {r['size']} -> "
              f"{r['reduced_size']} bytes{where}")
    if args.json:
        Path(args.json).write_text(json.dumps(summary, indent=1) + "\n")
    return 1 if any(summary["counts"][k] for k in BAD) else 0


if __name__ == "__main__":
    sys.exit(main())
