"""Reveals (with the four-eyes queue), the audit log, and feeds' proposals: the pages about people and trust."""

from __future__ import annotations

import base64
import csv
import io
import uuid
from datetime import timedelta
from typing import Any

from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.views.decorators.http import require_GET, require_POST

from accounts.models import Role
from accounts.selectors import audit_entries_visible_to
from console.access import DECLARERS, OFFICERS, console_view, staff
from console.forms import RevealForm
from console.views.crises import crisis_or_404, form_problems, problem_text, take_reveal_nonce
from consular.audit import audit_verify
from consular.errors import DomainError
from crises.selectors import reveal_request_for, reveal_requests_visible_to
from crises.services import reveals
from crises.suppression import threshold_for
from feeds.services.alerts import alert_acknowledge, alerts_for
from feeds.services.sources import feed_sources_all

SUPERVISORS = frozenset({Role.SUPERVISOR, Role.ADMIN})
AUDIT_PAGE = 100
CSV_COLUMNS = ("ref", "given_name", "family_name", "phone", "email", "language", "checkin", "places")


def _places(record: dict[str, Any]) -> str:
    stays = [f"{s['country']} {s.get('city') or ''} {s['start_date']} to {s['end_date']}" for s in record["stays"]]
    homes = [f"{r['country']} {r.get('city') or ''} (resident)" for r in record.get("residences", [])]
    return "; ".join(" ".join(place.split()) for place in stays + homes)


def _csv_link(records: list[dict[str, Any]]) -> str:
    """The table as a CSV data: link, inside the page that shows it: no second request, no URL to replay."""
    buffer = io.StringIO()
    writer = csv.writer(buffer)
    writer.writerow(CSV_COLUMNS)
    for record in records:
        row = [record.get(column) or "" for column in CSV_COLUMNS[:6]]
        row.append(record.get("checkin") or "")
        row.append(_places(record))
        # A cell that a spreadsheet would run as a formula is written as text.
        writer.writerow([f"'{cell}" if str(cell)[:1] in ("=", "+", "-", "@", "\t", "\r") else cell for cell in row])
    return "data:text/csv;charset=utf-8;base64," + base64.b64encode(buffer.getvalue().encode()).decode()


def _result(request: HttpRequest, crisis: Any, result: reveals.RevealResult) -> HttpResponse:
    if result.travellers is None:
        return render(request, "console/reveal_pending.html", {"crisis": crisis, "request_": result.request})
    records = [{**record, "places": _places(record)} for record in result.travellers]
    return render(
        request,
        "console/reveal_result.html",
        {"crisis": crisis, "records": records, "audit_id": result.audit_id, "csv_link": _csv_link(records)},
    )


@console_view(roles=OFFICERS)
@require_POST
def reveal_page(request: HttpRequest, crisis_id: uuid.UUID) -> HttpResponse:
    crisis = crisis_or_404(request, crisis_id)
    if not take_reveal_nonce(request, request.POST.get("nonce", "")):
        # A reload of the answer page would send the form again: that would be a second reveal.
        problems = ["This reveal was already made, and its answer shown once. Ask again from the crisis's page."]
        return render(request, "console/problem.html", {"crisis": crisis, "problems": problems}, status=409)
    form = RevealForm(request.POST)
    if not form.is_valid():
        return render(request, "console/problem.html", {"crisis": crisis, "problems": form_problems(form)}, status=400)
    try:
        with transaction.atomic():
            result = reveals.reveal(crisis=crisis, user=staff(request), **form.cleaned_data)
    except DomainError as problem:
        return render(request, "console/problem.html", {"crisis": crisis, "problems": problem_text(problem)},
                      status=problem.status)  # fmt: skip
    return _result(request, crisis, result)


@console_view(roles=OFFICERS)
@require_GET
def reveal_queue_page(request: HttpRequest) -> HttpResponse:
    requests = reveal_requests_visible_to(user=staff(request)).select_related("requested_by").order_by("-created_at")
    return render(request, "console/reveal_queue.html", {"requests": requests[:200]})


@console_view(roles=OFFICERS)
@require_POST
def reveal_request_page(request: HttpRequest, request_id: uuid.UUID) -> HttpResponse:
    """A supervisor approves or rejects; the officer who asked fetches once approved."""
    user = staff(request)
    found = reveal_request_for(user=user, request_id=request_id)
    if found is None:
        raise Http404("No such request.")
    action = request.POST.get("action", "")
    try:
        with transaction.atomic():
            if action in ("approve", "reject") and user.role == Role.SUPERVISOR:
                reveals.reveal_decide(request=found, user=user, approve=action == "approve")
            elif action == "fetch":
                return _result(request, found.crisis, reveals.reveal_fetch(request=found, user=user))
            else:
                return HttpResponse("Unknown action.", status=400)
    except DomainError as problem:
        return render(request, "console/problem.html", {"problems": problem_text(problem)}, status=problem.status)
    return redirect("console:reveal-queue")


@console_view(roles=SUPERVISORS)
@require_GET
def audit_page(request: HttpRequest) -> HttpResponse:
    user = staff(request)
    hours = request.GET.get("hours", "24")
    hours_value = int(hours) if hours.isdigit() and 0 < int(hours) <= 24 * 366 else 24
    entries = audit_entries_visible_to(user=user, since=timezone.now() - timedelta(hours=hours_value))
    actor = request.GET.get("actor", "").strip()[:64]
    action = request.GET.get("action", "").strip()[:64]
    if actor:
        try:
            entries = entries.filter(actor_id=uuid.UUID(actor))
        except ValueError:
            entries = entries.none()
    if action:
        entries = entries.filter(action__startswith=action)
    return render(
        request,
        "console/audit.html",
        {"entries": entries.order_by("-id")[:AUDIT_PAGE], "hours": hours_value, "actor": actor, "action": action,
         "limit": AUDIT_PAGE},
    )  # fmt: skip


@console_view(roles=SUPERVISORS)
@require_POST
def audit_verify_page(request: HttpRequest) -> HttpResponse:
    """The check `manage.py verify_audit --no-anchor` runs: the hash chain from the first entry."""
    chain = audit_verify()
    return render(request, "console/audit_verified.html", {"chain": chain})


@console_view()
@require_GET
def proposals_page(request: HttpRequest) -> HttpResponse:
    """Crises feeds proposed that hold registrations of the post's countries, most exposed first."""
    user = staff(request)
    k = threshold_for(user)
    entries = alerts_for(user=user).order_by("acknowledged_at", "-located", "-created_at")[:200]
    rows = []
    for alert in entries:
        hidden = k is not None and 0 < alert.located < k
        rows.append({"alert": alert, "located": None if hidden else alert.located})
    return render(request, "console/proposals.html", {"rows": rows, "may_act": user.role in DECLARERS})


@console_view(roles=DECLARERS)
@require_POST
def proposal_acknowledge_page(request: HttpRequest, alert_id: uuid.UUID) -> HttpResponse:
    alert = alerts_for(user=staff(request)).filter(pk=alert_id).first()
    if alert is None:
        raise Http404("No such alert.")
    try:
        alert_acknowledge(alert=alert, user=staff(request))
    except DomainError as problem:
        return render(request, "console/problem.html", {"problems": problem_text(problem)}, status=problem.status)
    return redirect("console:proposals")


@console_view(roles=frozenset({Role.ADMIN}))
@require_GET
def feed_sources_page(request: HttpRequest) -> HttpResponse:
    """The feeds polled for proposals, and how their last polls went (edited through /api/v1/feed-sources)."""
    return render(request, "console/feed_sources.html", {"sources": feed_sources_all()})
