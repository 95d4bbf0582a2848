from collections.abc import Callable, Sequence
from typing import Any

from django.conf import settings
from django.db.models import QuerySet
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class CappedPageNumberPagination(PageNumberPagination):
    page_size = settings.API_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE


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
