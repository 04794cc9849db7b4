"""The call dashboard's list of submissions: its filters and order from the query string."""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from registry.domain.errors import InvalidInput
from registry.domain.proposals import Status
from registry.services.call_dashboard import Selection, SortBy
from registry.web.forms import COMMON_PARAMETERS, chosen_id, reject_unknown
from registry.web.i18n import N_

PARAMETERS = (
    frozenset({"status", "organisation", "technology", "flagged", "sort", "order"})
    | COMMON_PARAMETERS
)
NOT_LISTED = N_("A filter or order not offered on the page: choose one of the listed values.")
ORDERS = ("asc", "desc")


def _listed(params: Mapping[str, str], name: str, allowed: Iterable[str]) -> str | None:
    value = (params.get(name) or "").strip()
    if value and value not in allowed:
        raise InvalidInput(NOT_LISTED, field=name)
    return value or None


def selection_params(params: Mapping[str, str]) -> Selection:
    """Filters left empty mean all; a value the page does not offer is InvalidInput (400)."""
    reject_unknown(params, PARAMETERS)
    status = _listed(params, "status", set(Status) - {Status.DRAFT})
    sort = _listed(params, "sort", set(SortBy))
    return Selection(
        status=Status(status) if status else None,
        organisation=chosen_id(
            params.get("organisation") or "", field="organisation", message=NOT_LISTED
        ),
        technology=chosen_id(
            params.get("technology") or "", field="technology", message=NOT_LISTED
        ),
        sort=SortBy(sort) if sort else SortBy.RECEIVED,
        descending=_listed(params, "order", ORDERS) == "desc",
        flagged=_listed(params, "flagged", ("1",)) == "1",
    )
