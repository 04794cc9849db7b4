"""The public record: a call's approved funded outcomes become catalogue projects, and the
call's public aggregates are frozen.

`publish` runs inside `decisions.approve`'s transaction, so the approval, the projects and the
statistics commit or fail together, and the projects are in the search index the moment the
approval is. A project carries what the applicant submitted for publication (title, abstract,
technologies, duration) and what the fund approved (amount, date): never reviews, scores,
comments or drafts. The statistics are counts and distributions of official marks only.
"""

from __future__ import annotations

import datetime as dt
import json

from registry import database
from registry.domain.clock import VIETNAM
from registry.domain.decisions import Preview
from registry.domain.public_record import call_statistics, ends_on
from registry.domain.reviews import OutcomeKind
from registry.domain.text import collation_key
from registry.services import queue, search
from registry.services.queries import public_record as sql
from registry.services.ranking import CallReview


async def publish(
    decision_id: int, approved_at: dt.datetime, review: CallReview, outcomes: Preview
) -> tuple[int, ...]:
    """What approving decision `decision_id` (on `review`'s ranking, with `outcomes`) makes
    public: its funded projects and the call's statistics. Call inside the approval's
    transaction; returns the new projects' ids."""
    statistics = call_statistics(
        review.criteria,
        review.ranked,
        submitted=len(review.proposals),
        funded=outcomes.count(OutcomeKind.FUNDED),
        budget_vnd=outcomes.budget_vnd,
        funded_vnd=outcomes.funded_vnd,
    )
    await database.execute(sql.SAVE_STATISTICS, decision_id, json.dumps(statistics.to_json()))
    return await publish_funded(decision_id, approved_at)


async def publish_funded(decision_id: int, approved_at: dt.datetime) -> tuple[int, ...]:
    """Create the projects of decision `decision_id`'s funded outcomes, starting on the
    approval's date in Vietnam, and index them; return their ids. Call inside a transaction."""
    starts_on = approved_at.astimezone(VIETNAM).date()
    created: list[int] = []
    for row in await database.fetch(sql.FUNDED_OUTCOMES, decision_id):
        content = json.loads(row["content"])
        submitted = content.get("proposal", {})
        title_vi = submitted.get("title_vi", "").strip()
        project_id = await database.fetchval(
            sql.INSERT_PROJECT,
            content.get("reference") or f"P-{row['proposal']}",
            title_vi,
            submitted.get("title_en", "").strip() or None,
            submitted.get("abstract_vi", "").strip() or None,
            submitted.get("abstract_en", "").strip() or None,
            row["organisation"],
            row["fund"],
            row["amount_vnd"],
            starts_on,
            ends_on(starts_on, submitted.get("duration_months")),
            row["province"],
            collation_key(title_vi),
            row["is_demo"],
            row["call"],
            row["proposal"],
        )
        if project_id is None:
            continue
        await database.execute(
            sql.INSERT_TECHNOLOGIES, project_id, list(submitted.get("technologies", ()))
        )
        created.append(project_id)
    if created:
        await search.index_projects(min(created), max(created))
        # The funding totals (materialized views) take a second or two at a million projects:
        # after the commit, in a job, rather than inside the approval.
        async with database.connection() as conn:
            await queue.defer(conn, queue.BACKGROUND_QUEUE, queue.REFRESH_TOTALS)
    return tuple(created)
