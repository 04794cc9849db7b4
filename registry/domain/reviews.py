"""Expert review's states: a reviewer in a fund's pool, an assignment, a review, a call's
decision and each proposal's outcome.

Pure values; services move rows between these states and write each move to the audit log.
"""

from __future__ import annotations

from enum import StrEnum


class PoolStatus(StrEnum):
    INVITED = "invited"
    ACCEPTED = "accepted"
    DECLINED = "declined"


class AssignmentStatus(StrEnum):
    ASSIGNED = "assigned"  # asked, not answered yet
    ACCEPTED = "accepted"  # the reviewer declared no conflict and may open the proposal
    DECLINED = "declined"
    CONFLICT = "conflict"  # the reviewer declared a conflict of interest


class ReviewStatus(StrEnum):
    DRAFT = "draft"
    SUBMITTED = "submitted"  # locked; a manager may reopen it, with a reason


class DecisionStatus(StrEnum):
    PROPOSED = "proposed"
    APPROVED = "approved"  # final
    WITHDRAWN = "withdrawn"


class OutcomeKind(StrEnum):
    FUNDED = "funded"
    RESERVE = "reserve"
    REJECTED = "rejected"
