"""Value types of the public catalogue, as services return them (frozen, no rows leak out)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from enum import StrEnum
from typing import Generic, TypeVar

T = TypeVar("T")


class Kind(StrEnum):
    """Kinds of catalogue items; the value is also the URL segment of their pages."""

    TECHNOLOGY = "technology"
    LABORATORY = "laboratory"
    EXCHANGE = "exchange"
    FUND = "fund"
    ZONE = "zone"
    PROJECT = "project"


class OrganisationKind(StrEnum):
    RESEARCH_INSTITUTE = "research_institute"
    UNIVERSITY = "university"
    ENTERPRISE = "enterprise"
    FUND_OPERATOR = "fund_operator"
    STATE_AGENCY = "state_agency"


class FundKind(StrEnum):
    GRANT = "grant"
    LOAN = "loan"
    INVESTMENT = "investment"


@dataclass(frozen=True, slots=True)
class Localized:
    """Text people wrote in Vietnamese, with an optional English version."""

    vi: str
    en: str | None = None

    def get(self, language: str) -> str:
        return (self.en or self.vi) if language == "en" else self.vi

    @classmethod
    def optional(cls, vi: str | None, en: str | None) -> Localized | None:
        return cls(vi, en) if vi else None


@dataclass(frozen=True, slots=True)
class Ref:
    """A link to another catalogue item: enough to name it and build its URL."""

    kind: Kind
    id: int
    name: Localized


@dataclass(frozen=True, slots=True)
class TechnologyList:
    id: int
    code: str
    decision_number: str
    title: Localized
    issued_on: dt.date | None
    effective_from: dt.date | None
    effective_to: dt.date | None
    note: Localized | None


@dataclass(frozen=True, slots=True)
class Listing:
    """How one list worded a technology, where it placed it and which products it named."""

    technology_list: TechnologyList
    position: int
    name: Localized
    note: Localized | None
    products: tuple[Product, ...]


@dataclass(frozen=True, slots=True)
class Product:
    name: Localized
    is_priority: bool


@dataclass(frozen=True, slots=True)
class Technology:
    id: int
    slug: str
    name: Localized
    note: Localized | None
    project_count: int
    funded_total: int
    #: Positions in lists, oldest list first.
    history: tuple[Listing, ...] = ()
    laboratories: tuple[Ref, ...] = ()


@dataclass(frozen=True, slots=True)
class Laboratory:
    id: int
    code: str
    name: Localized
    host: Localized | None
    fields: Localized | None
    province: str | None
    established_year: int | None
    note: Localized | None
    technologies: tuple[Ref, ...] = ()


@dataclass(frozen=True, slots=True)
class Exchange:
    id: int
    code: str
    name: Localized
    province: str | None
    operator: Localized | None
    founded_year: int | None
    legal_basis: str | None
    description: Localized | None
    note: Localized | None


@dataclass(frozen=True, slots=True)
class Fund:
    id: int
    code: str
    name: Localized
    short_name: str | None
    operator: Localized | None
    kind: FundKind
    capital_vnd: int | None
    legal_basis: str | None
    founded_on: dt.date | None
    description: Localized | None
    note: Localized | None
    project_count: int
    funded_total: int


@dataclass(frozen=True, slots=True)
class Zone:
    id: int
    code: str
    name: Localized
    province: str | None
    established_on: dt.date | None
    area_ha: int | None
    legal_basis: str | None
    note: Localized | None


@dataclass(frozen=True, slots=True)
class Project:
    id: int
    code: str
    title: Localized
    organisation: Localized
    fund: Ref
    amount_vnd: int
    starts_on: dt.date
    ends_on: dt.date
    province: str | None
    is_demo: bool
    technologies: tuple[Ref, ...] = ()
    abstract: Localized | None = None
    #: The call it was funded in, when funded through the registry.
    call: CallRef | None = None


@dataclass(frozen=True, slots=True)
class CallRef:
    """A link to a fund's call (calls are not catalogue items, but projects name theirs)."""

    id: int
    title: Localized


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    """One page of a list; `next_cursor` is None on the last page."""

    items: tuple[T, ...]
    next_cursor: str | None
    total: int | None = None


@dataclass(frozen=True, slots=True)
class GroupAmount:
    technology: Ref
    amount_vnd: int
    project_count: int


@dataclass(frozen=True, slots=True)
class Overview:
    counts: dict[Kind, int]
    funded_total: int
    by_technology: tuple[GroupAmount, ...] = field(default_factory=tuple)
    has_demo_data: bool = False
