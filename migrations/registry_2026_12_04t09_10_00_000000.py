"""Review tables' rules the ORM does not state: one pool row per fund and reviewer, one
assignment per proposal and reviewer, one outcome per proposal in a decision, at most one
decision per call that is proposed or approved, and the allowed status values.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

ID = "2026-12-04T09:10:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "review tables: unique pairs, one live decision per call, status checks"

FORWARDS = r"""
CREATE UNIQUE INDEX reviewer_pool_fund_reviewer ON reviewer_pool (fund, reviewer);
CREATE UNIQUE INDEX review_assignment_proposal_reviewer
    ON review_assignment (proposal, reviewer);
CREATE UNIQUE INDEX proposal_outcome_decision_proposal
    ON proposal_outcome (decision, proposal);
CREATE UNIQUE INDEX call_decision_live ON call_decision (call)
    WHERE status IN ('proposed', 'approved');
ALTER TABLE reviewer_pool ADD CONSTRAINT reviewer_pool_status
    CHECK (status IN ('invited', 'accepted', 'declined'));
ALTER TABLE review_assignment ADD CONSTRAINT review_assignment_status
    CHECK (status IN ('assigned', 'accepted', 'declined', 'conflict'));
ALTER TABLE review_assignment ADD CONSTRAINT review_assignment_affinity
    CHECK (affinity BETWEEN 0 AND 1000);
ALTER TABLE review ADD CONSTRAINT review_status CHECK (status IN ('draft', 'submitted'));
ALTER TABLE call_decision ADD CONSTRAINT call_decision_status
    CHECK (status IN ('proposed', 'approved', 'withdrawn'));
ALTER TABLE call_decision ADD CONSTRAINT call_decision_within_budget
    CHECK (funded_vnd >= 0 AND funded_vnd <= budget_vnd);
ALTER TABLE call_decision ADD CONSTRAINT call_decision_two_people
    CHECK (approved_by IS NULL OR approved_by <> proposed_by);
ALTER TABLE proposal_outcome ADD CONSTRAINT proposal_outcome_kind
    CHECK (outcome IN ('funded', 'reserve', 'rejected'));
ALTER TABLE proposal_outcome ADD CONSTRAINT proposal_outcome_amount
    CHECK (amount_vnd >= 0 AND (outcome = 'funded' OR amount_vnd = 0));
ALTER TABLE call ADD CONSTRAINT call_aggregation CHECK (aggregation IN ('median', 'mean'));
ALTER TABLE call ADD CONSTRAINT call_funding_policy CHECK (funding_policy IN ('stop', 'skip'));
"""

BACKWARDS = """
DROP INDEX IF EXISTS reviewer_pool_fund_reviewer;
DROP INDEX IF EXISTS review_assignment_proposal_reviewer;
DROP INDEX IF EXISTS proposal_outcome_decision_proposal;
DROP INDEX IF EXISTS call_decision_live;
ALTER TABLE reviewer_pool DROP CONSTRAINT IF EXISTS reviewer_pool_status;
ALTER TABLE review_assignment DROP CONSTRAINT IF EXISTS review_assignment_status;
ALTER TABLE review_assignment DROP CONSTRAINT IF EXISTS review_assignment_affinity;
ALTER TABLE review DROP CONSTRAINT IF EXISTS review_status;
ALTER TABLE call_decision DROP CONSTRAINT IF EXISTS call_decision_status;
ALTER TABLE call_decision DROP CONSTRAINT IF EXISTS call_decision_within_budget;
ALTER TABLE call_decision DROP CONSTRAINT IF EXISTS call_decision_two_people;
ALTER TABLE proposal_outcome DROP CONSTRAINT IF EXISTS proposal_outcome_kind;
ALTER TABLE proposal_outcome DROP CONSTRAINT IF EXISTS proposal_outcome_amount;
ALTER TABLE call DROP CONSTRAINT IF EXISTS call_aggregation;
ALTER TABLE call DROP CONSTRAINT IF EXISTS call_funding_policy;
"""


async def forwards():
    from registry.database import connection

    manager = MigrationManager(migration_id=ID, app_name="registry", description=DESCRIPTION)

    async def run():
        async with connection() as conn:
            await conn.execute(FORWARDS)

    async def run_backwards():
        async with connection() as conn:
            await conn.execute(BACKWARDS)

    manager.add_raw(run)
    manager.add_raw_backwards(run_backwards)
    return manager
