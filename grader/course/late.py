"""The late policy: when a submission is late, what it costs (THE penalty formula), and which of a
learner's submissions counts at collect time.

Rule: a submission is late when it is stamped after deadline + grace_minutes; its `late_days` are
counted from the deadline itself. `accept` keeps every late submission at full score, `penalty`
multiplies the score by `max(0, 1 - penalty_per_day * ceil(late_days))` (each started day after the
deadline costs `penalty_per_day`), `reject` refuses every late submission. Under any policy a
submission more than `max_days` late is rejected (score 0).

Choice at collect: the latest on-time submission counts; if there is none, the latest late one
that the policy accepts. The factor is decided here once; the gradebook stores it with the
submission (so no reader applies the policy again)."""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import Enum
from typing import NamedTuple

from grader.clock import as_utc

POLICIES = ("accept", "penalty", "reject")


@dataclass(frozen=True)
class LatePolicy:
    """A course's [late] table."""

    policy: str = "accept"
    grace_minutes: float = 0.0
    penalty_per_day: float = 0.0
    max_days: float | None = None

    def describe(self) -> str:
        """The policy in one phrase, for messages."""
        grace = f", {self.grace_minutes:g} minutes' grace" if self.grace_minutes else ""
        limit = f", nothing accepted more than {self.max_days:g} days late" if self.max_days is not None else ""
        if self.policy == "penalty":
            return f"late work loses {self.penalty_per_day:.0%} per started day{grace}{limit}"
        if self.policy == "reject":
            return f"late work is not accepted{grace}"
        return f"late work is accepted and flagged{grace}{limit}"


class LateInfo(NamedTuple):
    """How late a submission is and what the policy makes of it."""

    late: bool
    late_days: float
    factor: float
    accepted: bool


ON_TIME = LateInfo(False, 0.0, 1.0, True)


def penalty_factor(policy: LatePolicy, late_days: float) -> float:
    """THE formula: the factor a late, accepted score is multiplied by (1.0 unless the policy is
    `penalty`; each started day after the deadline costs `penalty_per_day`, floored at 0)."""
    if policy.policy != "penalty" or late_days <= 0:
        return 1.0
    return max(0.0, 1.0 - policy.penalty_per_day * math.ceil(late_days))


def late_info(policy: LatePolicy, deadline: datetime | None, submitted_at: datetime | str) -> LateInfo:
    """(late, late_days, factor, accepted) of a submission stamped `submitted_at` against `deadline`
    (None: no deadline, never late) under `policy` (see the module's docstring for the rule)."""
    at = as_utc(submitted_at)
    if deadline is None or at <= deadline + timedelta(minutes=policy.grace_minutes):
        return ON_TIME
    days = (at - deadline).total_seconds() / 86400
    rounded = round(days, 6)
    if policy.policy == "reject" or (policy.max_days is not None and days > policy.max_days):
        return LateInfo(True, rounded, 0.0, False)
    return LateInfo(True, rounded, round(penalty_factor(policy, days), 6), True)


# --- which submission counts -------------------------------------------------------------------

class Verdict(str, Enum):
    """What collect makes of one submission of a learner for an exercise (one vocabulary: it is
    stored as the `state` of each ignored submission and of the collected one)."""

    COUNTS = "counts"                  # collected: the submission that counts
    SUPERSEDED = "superseded"          # a valid one, but another counts
    LATE_REJECTED = "late-rejected"    # too late for the policy
    FUTURE = "future"                  # stamped after the collection time
    DAMAGED = "damaged"                # not whole: no record, missing or changed files
    REFUSED = "refused"                # breaks a rule (owner, limits): left in the exchange


@dataclass(frozen=True)
class Candidate:
    """One submission as collect read it: its id (folder name), the time that counts, the time the
    learner declared, and why it cannot count at all (damaged/refused), if so."""

    id: str
    submitted_at: str | None = None          # ISO text, the time that counts
    declared_at: str | None = None           # the learner's own stamp when it differs
    problem: Verdict | None = None           # DAMAGED or REFUSED
    why: str = ""                            # the problem in words


@dataclass(frozen=True)
class Ignored:
    """A submission that does not count, and why (stored in the collected submission.json)."""

    submission: str
    submitted_at: str | None
    state: Verdict
    reason: str

    def as_dict(self) -> dict:
        out = {"submission": self.submission, "submitted_at": self.submitted_at, "state": self.state.value,
               "reason": self.reason}
        if self.state is Verdict.REFUSED:
            out["refused"] = True
        return out


@dataclass(frozen=True)
class Choice:
    """The outcome for one (student, exercise): the chosen candidate and its LateInfo (or None and
    `reason`), and every other submission with why it does not count (in time order)."""

    chosen: Candidate | None
    info: LateInfo | None
    ignored: list[Ignored]
    reason: str | None


def _order(c: Candidate):
    return (as_utc(c.submitted_at), len(c.id), c.id)


def choose(policy: LatePolicy, deadline: datetime | None, candidates: list[Candidate], now: datetime) -> Choice:
    """The submission that counts among `candidates` at collection time `now` (see the module's
    docstring), with the reason for each one left out."""
    ignored: list[Ignored] = []
    valid: list[tuple[Candidate, LateInfo]] = []
    for c in candidates:
        if c.problem is Verdict.DAMAGED:
            ignored.append(Ignored(c.id, None, Verdict.DAMAGED, f"damaged: {c.why}"))
        elif c.problem is Verdict.REFUSED:
            ignored.append(Ignored(c.id, None, Verdict.REFUSED, f"refused: {c.why}; it stays in the exchange"))
        elif as_utc(c.declared_at or c.submitted_at) > now:
            ignored.append(Ignored(c.id, c.submitted_at, Verdict.FUTURE,
                                   "stamped after the collection time (a wrong clock or an edited record)"))
        else:
            valid.append((c, late_info(policy, deadline, c.submitted_at)))
    valid.sort(key=lambda pair: _order(pair[0]))
    on_time = [pair for pair in valid if not pair[1].late]
    accepted_late = [pair for pair in valid if pair[1].late and pair[1].accepted]
    chosen = on_time[-1] if on_time else (accepted_late[-1] if accepted_late else None)
    for c, info in valid:
        if chosen is not None and c is chosen[0]:
            continue
        state = Verdict.SUPERSEDED
        if not info.late:
            why = "an earlier on-time submission (the latest on-time one counts)"
        elif not info.accepted:
            why, state = f"{info.late_days:.2f} days late: the late policy rejects it", Verdict.LATE_REJECTED
        elif on_time:
            why = f"{info.late_days:.2f} days late, and there is an on-time submission (it counts)"
        else:
            why = "an earlier late submission (the latest accepted one counts)"
        ignored.append(Ignored(c.id, c.submitted_at, state, why))
    ignored.sort(key=lambda i: (i.submitted_at or "", i.submission))
    if chosen is not None:
        return Choice(chosen[0], chosen[1], ignored, None)
    if not valid:
        refused = [i.reason for i in ignored if i.state is Verdict.REFUSED]
        if refused:
            return Choice(None, None, ignored, f"no usable submission ({len(refused)} refused; {refused[0]})")
        return Choice(None, None, ignored, "no usable submission")
    return Choice(None, None, ignored, f"all {len(valid)} submission(s) are late and the late policy rejects them "
                                       f"({policy.describe()})")


__all__ = ["POLICIES", "LatePolicy", "LateInfo", "ON_TIME", "penalty_factor", "late_info", "Verdict",
           "Candidate", "Ignored", "Choice", "choose"]
