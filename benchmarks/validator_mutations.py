"""Phase-1 validators against broken variants of every shipped pattern's blueprints.

For each domain: instantiate every task pattern on the default generated data for several
seeds, derive good variants (as proposed, a failed read before the right one, a read made
twice, an upgrade that makes more bags free) and faulty ones of twelve classes, and run
`agents.blueprints.validation.validate` on each. Prints, per class, the variants generated,
rejected, and rejected by the expected check (format, execution, or the expected policy rule), and
the share of good blueprints rejected. Goal: >= 99% of faulty variants rejected, 0 good
blueprints rejected.

    python benchmarks/validator_mutations.py [--seeds 10] [--domains retail airline]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

if __package__ in (None, ""):
    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from benchmarks.blueprint_mutations import FAULTS, GOOD, Outcome, Row, outcomes, tally
from domains.registry import resolve_domain

GOAL = 0.99


def _share(part: int, whole: int) -> str:
    return f"{part:>5} ({100 * part / whole:5.1f}%)" if whole else f"{part:>5}    (-)  "


def _table(title: str, rows: dict[str, Row]) -> list[str]:
    lines = [title, f"  {'class':<24} {'generated':>9}  {'rejected':>14}  {'as expected':>14}"]
    for kind in (*FAULTS, *GOOD):
        row = rows[kind]
        if row.generated:
            rejected = _share(row.rejected, row.generated)
            expected = _share(row.as_expected, row.generated)
            marker = "  (good: must pass)" if kind in GOOD else ""
            lines.append(f"  {kind:<24} {row.generated:>9}  {rejected}  {expected}{marker}")
    return lines


def _summary(results: list[Outcome], label: str) -> list[str]:
    faulty = [o for o in results if o.variant.check is not None]
    strict = [o for o in faulty if o.variant.kind != "loose_types"]
    good = [o for o in results if o.variant.check is None]
    caught = sum(o.rejected for o in faulty)
    caught_strict = sum(o.rejected for o in strict)
    good_rejected = sum(o.rejected for o in good)
    met = caught >= GOAL * len(faulty) and good_rejected == 0
    return [
        f"{label}: faulty rejected {_share(caught, len(faulty)).strip()} of {len(faulty)}; "
        f"without loose_types {_share(caught_strict, len(strict)).strip()} of {len(strict)}",
        f"{label}: good blueprints rejected {_share(good_rejected, len(good)).strip()} of "
        f"{len(good)}   goal (>= {GOAL:.0%} faulty rejected, 0 good rejected): "
        f"{'met' if met else 'missed'}",
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--seeds", type=int, default=10, help="seeds per pattern")
    parser.add_argument("--domains", nargs="+", default=["retail", "airline"])
    args = parser.parse_args()
    everything: list[Outcome] = []
    for name in args.domains:
        domain = resolve_domain(name)
        results = outcomes(domain.environment(), range(args.seeds))
        everything += results
        blueprints = sum(1 for o in results if o.variant.kind == "original")
        title = f"{name}: {blueprints} blueprints ({args.seeds} seeds x {len(domain.patterns)} "
        title += "patterns, default data)"
        print("\n".join(_table(title, tally(results))))
        print("\n".join(_summary(results, name)))
        print()
    print("\n".join(_table("all domains", tally(everything))))
    print("\n".join(_summary(everything, "all")))


if __name__ == "__main__":
    main()
