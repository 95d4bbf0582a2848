import re
from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from api.params import query_value
from consular.errors import DomainError

_WHOLE_NUMBER = re.compile(r"[1-9][0-9]{0,8}")


class CappedPageNumberPagination(PageNumberPagination):
    """Pages of a list: ``page`` from 1 (or ``last``), ``page_size`` from 1 (a larger size than
    API_MAX_PAGE_SIZE is cut down to it, as it always was).

    Either one that is not such a number is a 400 naming it (DRF would silently use the
    default size, or answer 404); a page past the last is a 404.
    """

    page_size = settings.API_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE

    def paginate_queryset(self, queryset: Any, request: Any, view: Any = None) -> list[Any] | None:
        problems = {}
        page = query_value(request, self.page_query_param)
        if page is not None and page not in self.last_page_strings and not _WHOLE_NUMBER.fullmatch(page):
            problems[self.page_query_param] = ["A page number from 1, or last."]
        size = query_value(request, self.page_size_query_param)
        if size is not None and not _WHOLE_NUMBER.fullmatch(size):
            problems[self.page_size_query_param] = ["A page size from 1."]
        if problems:
            raise DomainError("invalid", "Invalid input.", fields=problems)
        return super().paginate_queryset(queryset, request, view)

    def get_schema_operation_parameters(self, view: Any) -> list[dict[str, Any]]:
        parameters = super().get_schema_operation_parameters(view)
        for parameter in parameters:
            if parameter["name"] == self.page_query_param:
                number = {"type": "integer", "minimum": 1, "maximum": 999_999_999}
                parameter["schema"] = {"oneOf": [number, {"type": "string", "enum": ["last"]}]}
                parameter["description"] = "A page number from 1, or `last`."
            elif parameter["name"] == self.page_size_query_param:
                parameter["schema"] = {"type": "integer", "minimum": 1, "maximum": 999_999_999}
                parameter["description"] = f"Results per page; above {self.max_page_size} it is {self.max_page_size}."
        return parameters


def paginated_response(
    request: Request, view: APIView, items: QuerySet[Any] | Sequence[Any], render: Callable[[list[Any]], Any]
) -> Response:
    """One capped page of ``items``, rendered by ``render`` (a list of objects to JSON-ready data).

    Paginated by the view's ``pagination_class``, which a list view should declare: the
    OpenAPI schema reads it to describe the page (``count``, ``next``, ``previous``,
    ``results``) and its ``page``/``page_size`` parameters instead of a bare array.
    """
    paginator = (getattr(view, "pagination_class", None) or CappedPageNumberPagination)()
    page: list[Any] | None = paginator.paginate_queryset(items, request, view=view)
    # None only for a paginator without a page size, which this one never is.
    return paginator.get_paginated_response(render(page or []))
