"""The public catalogue: technology lists, organisations, labs, exchanges, funds, zones, projects.

Schema only. Text is stored NFC; `sort_key` columns hold `domain.text.collation_key` of the
Vietnamese name and are compared with COLLATE "C" (no ICU in the embedded server).
"""

from piccolo.columns import (
    Array,
    BigInt,
    Boolean,
    Date,
    ForeignKey,
    Integer,
    Text,
    Timestamptz,
    Varchar,
)
from piccolo.columns.base import OnDelete
from piccolo.columns.reference import LazyTableReference
from piccolo.table import Table


class TechnologyList(Table, tablename="technology_list"):
    """One Prime Minister's decision listing strategic technologies (1131/QĐ-TTg, 21/2026/...)."""

    #: Stable key used by fixtures, e.g. `QD-1131-2025`.
    code = Varchar(length=40, unique=True)
    decision_number = Varchar(length=40)
    title_vi = Text()
    title_en = Text(null=True, default=None)
    issued_on = Date(null=True, default=None)
    effective_from = Date(null=True, default=None)
    #: Null while the list is in force.
    effective_to = Date(null=True, default=None)
    #: Shown on the public page when facts could not be checked against the official text.
    note_vi = Text(null=True, default=None)
    note_en = Text(null=True, default=None)


class Technology(Table, tablename="technology"):
    """A strategic technology as a lasting identity; lists come and go around it."""

    slug = Varchar(length=80, unique=True)
    name_vi = Text()
    name_en = Text(null=True, default=None)
    sort_key = Text()
    note_vi = Text(null=True, default=None)
    note_en = Text(null=True, default=None)


class TechnologyListing(Table, tablename="technology_listing"):
    """A technology's place (and wording) in one list: its history is the set of these."""

    technology_list = ForeignKey(references=TechnologyList, on_delete=OnDelete.cascade)
    technology = ForeignKey(references=Technology, on_delete=OnDelete.restrict)
    position = Integer()
    name_vi = Text()
    name_en = Text(null=True, default=None)
    note_vi = Text(null=True, default=None)
    note_en = Text(null=True, default=None)


class TechnologyProduct(Table, tablename="technology_product"):
    """A strategic-technology product group within one listing."""

    listing = ForeignKey(references=TechnologyListing, on_delete=OnDelete.cascade)
    position = Integer()
    name_vi = Text()
    name_en = Text(null=True, default=None)
    #: Picked by Decision 2815/QĐ-TTg for immediate deployment.
    is_priority = Boolean(default=False)


class Organisation(Table, tablename="organisation"):
    #: Stable key used by fixtures and the demo generator.
    code = Varchar(length=60, unique=True)
    name_vi = Text()
    name_en = Text(null=True, default=None)
    #: One of domain.catalogue.OrganisationKind.
    kind = Varchar(length=30)
    province = Varchar(length=80, null=True, default=None)
    #: org-id.guide VN-TIN: 10 digits, or 13 for a branch.
    tax_number = Varchar(length=14, null=True, default=None)
    #: Bare ROR id (`0` + 6 + 2 check digits), validated before storage.
    ror_id = Varchar(length=9, null=True, default=None)
    sort_key = Text()
    note_vi = Text(null=True, default=None)
    note_en = Text(null=True, default=None)
    is_demo = Boolean(default=False)
    #: When the registry confirmed the organisation exists (reference lists are confirmed on
    #: loading); proposals from unconfirmed organisations cannot be submitted.
    verified_at = Timestamptz(null=True, default=None)


class Laboratory(Table, tablename="laboratory"):
    """A national key laboratory (phòng thí nghiệm trọng điểm quốc gia)."""

    code = Varchar(length=60, unique=True)
    name_vi = Text()
    name_en = Text(null=True, default=None)
    host = ForeignKey(references=Organisation, null=True, on_delete=OnDelete.restrict)
    fields_vi = Text(null=True, default=None)
    fields_en = Text(null=True, default=None)
    established_year = Integer(null=True, default=None)
    province = Varchar(length=80, null=True, default=None)
    sort_key = Text()
    note_vi = Text(null=True, default=None)
    note_en = Text(null=True, default=None)


class LaboratoryTechnology(Table, tablename="laboratory_technology"):
    laboratory = ForeignKey(references=Laboratory, on_delete=OnDelete.cascade)
    technology = ForeignKey(references=Technology, on_delete=OnDelete.restrict)


class Exchange(Table, tablename="exchange"):
    """A technology exchange (sàn giao dịch công nghệ) or Techmart."""

    code = Varchar(length=60, unique=True)
    name_vi = Text()
    name_en = Text(null=True, default=None)
    province = Varchar(length=80, null=True, default=None)
    operator = ForeignKey(references=Organisation, null=True, on_delete=OnDelete.restrict)
    founded_year = Integer(null=True, default=None)
    legal_basis = Text(null=True, default=None)
    description_vi = Text(null=True, default=None)
    description_en = Text(null=True, default=None)
    sort_key = Text()
    note_vi = Text(null=True, default=None)
    note_en = Text(null=True, default=None)


class Fund(Table, tablename="fund"):
    code = Varchar(length=60, unique=True)
    name_vi = Text()
    name_en = Text(null=True, default=None)
    short_name = Varchar(length=30, null=True, default=None)
    operator = ForeignKey(references=Organisation, null=True, on_delete=OnDelete.restrict)
    #: One of domain.catalogue.FundKind.
    kind = Varchar(length=30)
    #: Charter capital in whole đồng; null when not published.
    capital_vnd = BigInt(null=True, default=None)
    legal_basis = Text(null=True, default=None)
    founded_on = Date(null=True, default=None)
    description_vi = Text(null=True, default=None)
    description_en = Text(null=True, default=None)
    sort_key = Text()
    note_vi = Text(null=True, default=None)
    note_en = Text(null=True, default=None)


class Zone(Table, tablename="zone"):
    """A high-tech zone (khu công nghệ cao)."""

    code = Varchar(length=60, unique=True)
    name_vi = Text()
    name_en = Text(null=True, default=None)
    province = Varchar(length=80, null=True, default=None)
    established_on = Date(null=True, default=None)
    area_ha = Integer(null=True, default=None)
    legal_basis = Text(null=True, default=None)
    sort_key = Text()
    note_vi = Text(null=True, default=None)
    note_en = Text(null=True, default=None)


class Project(Table, tablename="project"):
    """A funded project."""

    code = Varchar(length=60, unique=True)
    title_vi = Text()
    title_en = Text(null=True, default=None)
    abstract_vi = Text(null=True, default=None)
    abstract_en = Text(null=True, default=None)
    organisation = ForeignKey(references=Organisation, on_delete=OnDelete.restrict, index=True)
    fund = ForeignKey(references=Fund, on_delete=OnDelete.restrict, index=True)
    #: Whole đồng.
    amount_vnd = BigInt()
    starts_on = Date()
    ends_on = Date()
    province = Varchar(length=80, null=True, default=None)
    sort_key = Text()
    #: Generated by `registry demo`: marked on every page that shows it.
    is_demo = Boolean(default=False)
    #: The call it was funded in, when funded through the registry (lazy: calls import this
    #: module).
    call = ForeignKey(
        references=LazyTableReference("Call", module_path="registry.tables.calls"),
        null=True,
        on_delete=OnDelete.restrict,
        index=True,
    )
    #: The proposal whose approved outcome created it (services.public_record): one at most.
    proposal = ForeignKey(
        references=LazyTableReference("Proposal", module_path="registry.tables.proposals"),
        null=True,
        unique=True,
        on_delete=OnDelete.restrict,
    )


class ProjectTechnology(Table, tablename="project_technology"):
    project = ForeignKey(references=Project, on_delete=OnDelete.cascade)
    technology = ForeignKey(references=Technology, on_delete=OnDelete.restrict, index=True)


class SearchEntry(Table, tablename="search_entry"):
    """One searchable item of any kind, denormalised for search and facets.

    Its tokens (`terms`, a tsvector without positions: domain.terms) are a column added by
    migration (Piccolo has no tsvector type) and written by services.search.
    """

    #: One of domain.catalogue.Kind.
    kind = Varchar(length=20)
    object_id = Integer()
    title_vi = Text()
    title_en = Text(null=True, default=None)
    #: Shown under the title in results (first 300 characters).
    summary_vi = Text(null=True, default=None)
    summary_en = Text(null=True, default=None)
    technology_ids = Array(base_column=Integer())
    province = Varchar(length=80, null=True, default=None)
    fund_id = Integer(null=True, default=None)
    year = Integer(null=True, default=None)
    amount_vnd = BigInt(null=True, default=None)
    is_demo = Boolean(default=False)


class SearchTerm(Table, tablename="search_term"):
    """Distinct folded words of the catalogue, for "did you mean" suggestions (trigram)."""

    term = Text(unique=True)
    documents = Integer()
