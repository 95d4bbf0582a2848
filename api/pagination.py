from collections.abc import Callable, Iterable
from typing import Any

from django.conf import settings
from rest_framework.pagination import PageNumberPagination
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView


class CappedPageNumberPagination(PageNumberPagination):
    page_size = settings.API_PAGE_SIZE
    page_size_query_param = "page_size"
    max_page_size = settings.API_MAX_PAGE_SIZE


def paginated_response(
    request: Request, view: APIView, items: Iterable[Any], render: Callable[[list[Any]], Any]
) -> Response:
    """One capped page of ``items``, rendered by ``render`` (a list of objects to JSON-ready data).

    Paginated by the view's ``pagination_class``, which a list view should declare: the
    OpenAPI schema reads it to describe the page (``count``, ``next``, ``previous``,
    ``results``) and its ``page``/``page_size`` parameters instead of a bare array.
    """
    paginator = (getattr(view, "pagination_class", None) or CappedPageNumberPagination)()
    page = paginator.paginate_queryset(items, request, view=view)
    return paginator.get_paginated_response(render(page))
