"""Sign-in and sign-out: the API's login rules (throttle, audit) with a session instead of a token."""

from __future__ import annotations

from django.contrib.auth import login as session_login
from django.contrib.auth import logout as session_logout
from django.db import transaction
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_http_methods, require_POST

from accounts.services import credentials_check, sign_in_record
from accounts.throttling import client_address
from console.middleware import PREFIX
from consular.errors import DomainError

MAX_FIELD = 254


@require_http_methods(["GET", "HEAD", "POST"])
def login_page(request: HttpRequest) -> HttpResponse:
    target = request.POST.get("next") or request.GET.get("next") or PREFIX
    if not target.startswith(PREFIX) or not url_has_allowed_host_and_scheme(target, allowed_hosts=None):
        target = PREFIX  # only back into the console, never to another site
    error, status = "", 200
    if request.method == "POST":
        email = request.POST.get("email", "")[:MAX_FIELD]
        password = request.POST.get("password", "")[:1024]
        try:
            user = credentials_check(
                email=email, password=password, client_address=client_address(request), staff_only=True
            )
        except DomainError as problem:
            error, status = problem.message, problem.status
        else:
            with transaction.atomic():
                sign_in_record(user=user, via="console")
                session_login(request, user, backend="accounts.backends.EmailBlindIndexBackend")
            return redirect(target)
    return render(request, "console/login.html", {"next": target, "error": error}, status=status)


@require_POST
def logout_page(request: HttpRequest) -> HttpResponse:
    session_logout(request)  # the session row is deleted: a copied cookie opens nothing
    return redirect("console:login")


def not_found_page(request: HttpRequest, exception: Exception | None = None) -> HttpResponse:
    """The console's 404: a page, like the rest of the console (the API's 404 stays JSON)."""
    return render(request, "console/not_found.html", status=404)
