"""Components, gates and generated files as rows and JSON: one wording for `covtui status`,
the report and the dashboard's Components panel."""

from __future__ import annotations

from dataclasses import dataclass

from covtui.config import Phase
from covtui.domain.components import ComponentNumbers
from covtui.domain.gates import GateResult
from covtui.domain.numbers import Numbers
from covtui.domain.phases import phase_status
from covtui.present.serialise import summary_json
from covtui.query.components import ComponentState


@dataclass(frozen=True)
class ComponentRow:
    name: str
    cover: str  # "83.33%" or "no data"
    lines: str  # "10 of 12"
    missed: str  # missed statements + branches of all, "2/14"
    n_files: int
    gate: str  # "ok", "FAIL", or "" (no floor)
    note: str  # "shares pkg/util.py with cli", "files in no component"
    numbers: Numbers
    #: Points since the comparable snapshot before (None: no change to show).
    pc_change: float | None = None
    #: "Phase 3: Advanced" — the project's phases applied to the component's figure.
    phase: str = ""


def shown(state: ComponentState) -> bool:
    """Whether there is anything to show: components, gates or generated files."""
    return bool(state.breakdown.components or state.gates or state.breakdown.generated)


def _gate_of(state: ComponentState, name: str) -> GateResult | None:
    return next((g for g in state.gates if g.floor.kind == "components" and g.floor.name == name), None)


def _note(state: ComponentState, c: ComponentNumbers) -> str:
    if c.is_other:
        return "files in no component"
    if not c.shared:
        return ""
    others = sorted(
        o.name for o in state.breakdown.components
        if o is not c and any(p in o.paths for p in c.shared)
    )
    shared = c.shared[0] + (f" +{len(c.shared) - 1} more" if len(c.shared) > 1 else "")
    return f"shares {shared} with {', '.join(others)}"


def component_rows(
    state: ComponentState, precision: int, phases: list[Phase] | None = None
) -> list[ComponentRow]:
    rows = []
    for c in state.breakdown.components:
        n = c.numbers
        gate = _gate_of(state, c.name)
        phase = ""
        own = state.phases.get(c.name, phases)
        if own and n.has_data:
            found = phase_status(n.pc_covered, own)
            phase = f"Phase {found.number}: {found.phase.name}"
        rows.append(ComponentRow(
            c.name,
            f"{n.pc_covered_str(precision)}%" if n.has_data else "no data",
            f"{n.n_executed:,} of {n.n_statements:,}",
            f"{n.n_missed_total:,}/{n.n_statements + n.n_branches:,}",
            n.n_files,
            "" if gate is None else ("ok" if gate.passed else "FAIL"),
            _note(state, c),
            n,
            state.pc_change(c.name),
            phase,
        ))
    return rows


#: Eight heights, lowest first.
SPARKS = "▁▂▃▄▅▆▇█"


def sparkline(values: list[float | None]) -> str:
    """A percentage's history in one line, scaled to its own range (" " where no data)."""
    known = [v for v in values if v is not None]
    if not known:
        return ""
    low, high = min(known), max(known)
    span = high - low
    return "".join(
        " " if v is None else SPARKS[3 if span == 0 else min(7, int((v - low) / span * 8))]
        for v in values
    )


def generated_line(state: ComponentState, precision: int) -> str | None:
    """The total with generated files left out, labelled as such (it is not coverage.py's
    total of every file, but its total with `--omit` naming those files)."""
    if not state.breakdown.generated:
        return None
    n = state.breakdown.total
    cover = f"{n.pc_covered_str(precision)}%" if n.has_data else "no data"
    return (
        f"Without the {len(state.breakdown.generated):,} generated files: {cover} "
        f"(coverage.py's total with them omitted)"
    )


def components_json(state: ComponentState, precision: int) -> dict:
    return {
        "components": {
            c.name: {
                "summary": summary_json(c.numbers, precision),
                "percent_change": state.pc_change(c.name),
                "compared_with_snapshot": state.previous_snapshot_id,
                "files": list(c.paths),
                "shared_files": list(c.shared),
            }
            for c in state.breakdown.components
        },
        "generated_files": [{"path": g.path, "why": g.why} for g in state.generated],
        "generated_left_out": list(state.breakdown.generated),
        "totals_without_generated": summary_json(state.breakdown.total, precision),
        "gates": [
            {
                "name": g.floor.name,
                "kind": g.floor.kind,
                "fail_under": g.floor.fail_under,
                "max_uncovered": g.floor.max_uncovered,
                "passed": g.passed,
                "failures": list(g.failures),
            }
            for g in state.gates
        ],
    }
