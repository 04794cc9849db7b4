"""Every route the application serves, in one list: the URL map at a glance."""

from pathlib import Path

from litestar.static_files import create_static_files_router

from registry.web.controllers.account import AccountController
from registry.web.controllers.api import CallsApi, CatalogueApi, VerifyApi
from registry.web.controllers.assignments import AssignmentsController
from registry.web.controllers.audit import AuditApi, AuditController
from registry.web.controllers.calls import CallsController, ManageCallsController, fund_calls
from registry.web.controllers.catalogue import CatalogueController
from registry.web.controllers.decisions import DecisionController, ExportController
from registry.web.controllers.health import healthz, readyz
from registry.web.controllers.imports import ProjectImportController
from registry.web.controllers.issuing import IssuingController
from registry.web.controllers.mail_admin import MailAdminController
from registry.web.controllers.open_data import OpenDataApi, OpenDataController
from registry.web.controllers.people import (
    PeopleAdminController,
    dev_outbox,
    managed_fund,
    organisation_members,
)
from registry.web.controllers.proposals import ProposalsController
from registry.web.controllers.ranking import RankingController
from registry.web.controllers.reviews import ManageReviewsController, ReviewController
from registry.web.controllers.verify import VerifyController

STATIC = Path(__file__).resolve().parent / "static"

ROUTE_HANDLERS = [
    CatalogueController,
    CatalogueApi,
    CallsApi,
    VerifyApi,
    OpenDataApi,
    OpenDataController,
    AuditController,
    AuditApi,
    healthz,
    readyz,
    AccountController,
    PeopleAdminController,
    MailAdminController,
    ProjectImportController,
    organisation_members,
    managed_fund,
    dev_outbox,
    CallsController,
    ManageCallsController,
    fund_calls,
    AssignmentsController,
    ProposalsController,
    ReviewController,
    ManageReviewsController,
    DecisionController,
    ExportController,
    IssuingController,
    RankingController,
    VerifyController,
    create_static_files_router(
        path="/static", directories=[STATIC], opt={"public": True}, include_in_schema=False
    ),
]
