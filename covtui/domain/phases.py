"""Phase milestones: which band of overall coverage a project is in and how far along it is."""

from __future__ import annotations

from dataclasses import dataclass

from covtui.config import Phase


@dataclass(frozen=True)
class PhaseStatus:
    number: int  # 1-based, as the seed counts ("Phase 1")
    phase: Phase
    #: Percent of the way from the phase's start to its end ("9.3% of the way from 0% to 25%").
    pc_progress: float

    @property
    def label(self) -> str:
        return f"Phase {self.number}: {self.phase.name} ({self.phase.start:g}–{self.phase.end:g}%)"


def phase_status(pc_covered: float, phases: list[Phase]) -> PhaseStatus:
    """The phase that `pc_covered` falls in; a phase's start belongs to it, 100% to the last."""
    ordered = sorted(phases, key=lambda p: p.start)
    number, current = 1, ordered[0]
    for i, phase in enumerate(ordered, start=1):
        if pc_covered >= phase.start:
            number, current = i, phase
    span = current.end - current.start
    progress = 100.0 * (pc_covered - current.start) / span if span else 100.0
    return PhaseStatus(number, current, max(0.0, min(100.0, progress)))


def milestones_crossed(before: float, after: float, phases: list[Phase]) -> list[Phase]:
    """Phases whose end was reached going from `before` to `after` (upwards only)."""
    return [p for p in sorted(phases, key=lambda p: p.end) if before < p.end <= after]
