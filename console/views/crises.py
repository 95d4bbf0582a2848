"""Declaring a crisis, its page (counts, check-ins, campaigns), its transitions."""

from __future__ import annotations

import secrets
import uuid
from datetime import UTC, datetime
from typing import Any

import orjson
from django.conf import settings
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.utils import timezone
from django.utils.dateparse import parse_datetime
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from console.access import DECLARERS, OFFICERS, console_view, json_error, staff
from console.forms import MAX_AREA_BYTES, CampaignForm, DeclareForm, RevealForm
from consular.errors import DomainError
from crises.models import Crisis, Status
from crises.reports import affected_report, checkins_report
from crises.selectors import affected_counts, crisis_for, crisis_outlines
from crises.services.lifecycle import area_preview_audited, crisis_declare, crisis_transition
from crises.suppression import suppress_total, threshold_for
from feeds.events import FeedError
from feeds.parsers import cap
from notifications.selectors import campaign_progress, campaigns_visible_to, crisis_checkins
from notifications.services.campaigns import campaign_dry_run, campaign_launch, campaign_validate

CAP_MAX_BYTES = MAX_AREA_BYTES


def crisis_or_404(request: HttpRequest, crisis_id: uuid.UUID) -> Crisis:
    crisis = crisis_for(user=staff(request), crisis_id=crisis_id)
    if crisis is None:
        raise Http404("No such crisis.")  # another post's crisis too: it does not exist for this officer
    return crisis


def problem_text(problem: DomainError) -> list[str]:
    """A service's refusal as lines an officer can read (its message, then each field's complaint)."""
    lines = [problem.message]
    for name, complaints in (problem.fields or {}).items():
        lines.extend(f"{name}: {complaint}" for complaint in complaints)
    return lines


REVEAL_NONCES = "reveal_nonces"


def reveal_nonce(request: HttpRequest) -> str:
    """A one-time token for a reveal form, kept in the session (the last few)."""
    nonce = secrets.token_urlsafe(16)
    request.session[REVEAL_NONCES] = [*request.session.get(REVEAL_NONCES, [])[-9:], nonce]
    return nonce


def take_reveal_nonce(request: HttpRequest, nonce: str) -> bool:
    """True once for a nonce this session was given: the form's first sending, not a reload's."""
    nonces = request.session.get(REVEAL_NONCES, [])
    if not nonce or nonce not in nonces:
        return False
    request.session[REVEAL_NONCES] = [n for n in nonces if n != nonce]
    return True


def form_problems(form: Any) -> list[str]:
    return [f"{name}: {' '.join(str(error) for error in errors)}" for name, errors in form.errors.items()]


# --- Declaring ------------------------------------------------------------------------


def _area_of_upload(upload: Any, form: DeclareForm) -> Any:
    """A GeoJSON file's area, or a CAP alert's (its first event; title, severity and times filled when empty)."""
    data = upload.read(CAP_MAX_BYTES + 1)
    if len(data) > CAP_MAX_BYTES:
        raise DomainError("invalid", "The file is larger than 1 MB.")
    if data.lstrip()[:1] in (b"{", b"["):
        try:
            return orjson.loads(data)
        except orjson.JSONDecodeError as problem:
            raise DomainError("invalid", f"The file is not GeoJSON: {problem}") from problem
    try:
        parsed = cap.parse(data)
    except FeedError as problem:
        raise DomainError("invalid", f"The file is neither GeoJSON nor a CAP alert: {problem}") from problem
    events = [event for event in parsed.events if event.area]
    if not events:
        raise DomainError("invalid", "The CAP file has no alert with an area (a polygon or a circle).")
    event = events[0]
    form.cleaned_data["title"] = form.cleaned_data["title"] or event.title[:200]
    form.cleaned_data["description"] = form.cleaned_data["description"] or event.description[:5000]
    if event.onset and not form.cleaned_data.get("starts_at"):
        form.cleaned_data["starts_at"] = event.onset
    if event.expires and not form.cleaned_data.get("ends_at"):
        form.cleaned_data["ends_at"] = event.expires
    return event.area


@console_view(roles=DECLARERS)
@require_http_methods(["GET", "HEAD", "POST"])
def declare_page(request: HttpRequest) -> HttpResponse:
    problems: list[str] = []
    if request.method == "POST":
        form = DeclareForm(request.POST, request.FILES)
        if form.is_valid():
            data = form.cleaned_data
            try:
                area = _area_of_upload(data["area_file"], form) if data["area_file"] else data["area"]
                if area is None:
                    raise DomainError("invalid", "Draw the area on the map, paste it as GeoJSON or upload a file.")
                if not data["title"] or not data["starts_at"]:
                    raise DomainError("invalid", "Give the crisis a title and a start (or upload a CAP alert).")
                with transaction.atomic():
                    crisis = crisis_declare(
                        user=staff(request),
                        title=data["title"],
                        severity=data["severity"],
                        starts_at=data["starts_at"],
                        ends_at=data["ends_at"],
                        area=area,
                        description=data["description"],
                        public=data["public"],
                    )
            except DomainError as problem:
                problems = problem_text(problem)
            else:
                return redirect("console:crisis", crisis_id=crisis.pk)
    else:
        form = DeclareForm(initial={"starts_at": timezone.now().replace(second=0, microsecond=0)})
    return render(
        request, "console/declare.html", {"form": form, "problems": problems}, status=400 if problems else 200
    )


def _moment(value: Any, name: str) -> datetime | None:
    if value in (None, ""):
        return None
    try:
        moment = parse_datetime(value) if isinstance(value, str) else None
    except ValueError:  # well-formed but impossible, as 2026-02-30
        moment = None
    if moment is None:
        raise DomainError("invalid", f"{name} is not a date and time.")
    return moment if timezone.is_aware(moment) else timezone.make_aware(moment, UTC)


@console_view(roles=DECLARERS, data=True)
@require_POST
def preview_data(request: HttpRequest) -> JsonResponse:
    """Who an area being drawn would count: totals only, small ones hidden whoever asks.

    For those who declare crises only; rate-limited and audited like a declared area (an area
    and the same area with a small patch would tell one person apart by difference, and the
    log shows such runs); below the suppression threshold it says "fewer than k" to everyone.
    """
    try:
        body = orjson.loads(request.body)
        if not isinstance(body, dict):
            raise DomainError("invalid", "Expected a JSON object.")
        starts_at = _moment(body.get("starts_at"), "starts_at") or timezone.now()
        ends_at = _moment(body.get("ends_at"), "ends_at")
        preview = area_preview_audited(user=staff(request), area=body.get("area"), starts_at=starts_at, ends_at=ends_at)
    except orjson.JSONDecodeError:
        return json_error("malformed_request", "Not JSON.", status=400)
    except DomainError as problem:
        return json_error(problem.code, " ".join(problem_text(problem)), status=problem.status, headers=problem.headers)
    k = settings.SUPPRESS_BELOW
    answer: dict[str, Any] = {
        "countries": preview.countries,
        "warnings": preview.warnings,
        "vertex_count": preview.vertex_count,
        "suppressed_below": k,
    }
    for name, total in (
        ("located", sum(preview.counts.located.values())),
        ("country_only", sum(preview.counts.country_only.values())),
    ):
        cell = suppress_total(total, k)
        answer[name] = cell.count
        answer[f"{name}_suppressed"] = cell.suppressed
    return JsonResponse(answer)


# --- A crisis's page --------------------------------------------------------------------


def _campaigns(crisis: Crisis, request: HttpRequest) -> list[dict[str, Any]]:
    user = staff(request)
    k = threshold_for(user)
    campaigns = campaigns_visible_to(user=user).filter(crisis=crisis).order_by("-created_at")
    return [{"campaign": c, "progress": campaign_progress(c, suppress_below=k)} for c in campaigns]


def _report(crisis: Crisis, request: HttpRequest) -> dict[str, Any]:
    """The API's `affected` answer: counts by country and precision, check-ins, suppression for analysts."""
    user = staff(request)
    return affected_report(
        crisis=crisis,
        counts=affected_counts(crisis=crisis, user=user),
        suppress_below=threshold_for(user),
        checkins=crisis_checkins(crisis=crisis, user=user),
    )


@console_view()
@require_GET
def crisis_page(request: HttpRequest, crisis_id: uuid.UUID) -> HttpResponse:
    crisis = crisis_or_404(request, crisis_id)
    user = staff(request)
    report = _report(crisis, request)
    located_rows = report["located"]["by_country"]
    largest = max([row["count"] or 0 for row in located_rows] + [1])
    return render(
        request,
        "console/crisis.html",
        {
            "crisis": crisis,
            "report": report,
            "bars": [
                {**row, "width": round(250 * (row["count"] or 0) / largest, 1), "y": 24 * i}
                for i, row in enumerate(located_rows)
            ],
            "chart_height": 24 * len(located_rows),
            "campaigns": _campaigns(crisis, request),
            "area": orjson.loads(crisis_outlines([crisis.pk], pixels=2000)[crisis.pk]),
            "may_declare": user.role in DECLARERS,
            "may_act": user.role in OFFICERS,
            "is_active": crisis.status == Status.ACTIVE,
            "campaign_form": CampaignForm(initial={"channels": ["email"], "ask_checkin": True}),
            "reveal_form": RevealForm(),
            "reveal_nonce": reveal_nonce(request) if user.role in OFFICERS and crisis.status == Status.ACTIVE else "",
            "refresh_ms": settings.CONSOLE_REFRESH_SECONDS * 1000,
        },
    )


@console_view(data=True)
@require_GET
def crisis_progress_data(request: HttpRequest, crisis_id: uuid.UUID) -> JsonResponse:
    """What the crisis page refreshes while open: check-ins and each campaign's progress. Not the
    counts of who is there: the join is the page's, once (a dense area's takes seconds)."""
    crisis = crisis_or_404(request, crisis_id)
    user = staff(request)
    return JsonResponse(
        {
            "as_of": timezone.now().isoformat(),
            "checkins": checkins_report(crisis_checkins(crisis=crisis, user=user), threshold_for(user)),
            "campaigns": [entry["progress"] for entry in _campaigns(crisis, request)],
        }
    )


@console_view(roles=DECLARERS)
@require_POST
def crisis_transition_page(request: HttpRequest, crisis_id: uuid.UUID) -> HttpResponse:
    crisis = crisis_or_404(request, crisis_id)
    action = request.POST.get("action", "")
    if action not in ("activate", "close"):
        return HttpResponse("Unknown action.", status=400)
    try:
        with transaction.atomic():
            crisis_transition(crisis=crisis, user=staff(request), action=action)
    except DomainError as problem:
        return render(request, "console/problem.html", {"crisis": crisis, "problems": problem_text(problem)},
                      status=problem.status)  # fmt: skip
    return redirect("console:crisis", crisis_id=crisis.pk)


# --- Campaigns ---------------------------------------------------------------------------


@console_view(roles=OFFICERS)
@require_POST
def campaign_page(request: HttpRequest, crisis_id: uuid.UUID) -> HttpResponse:
    """First the dry run (counts, nothing sent); the officer confirms, and the same form launches."""
    crisis = crisis_or_404(request, crisis_id)
    form = CampaignForm(request.POST)
    problems: list[str] = []
    if form.is_valid():
        user = staff(request)
        try:
            campaign_request = campaign_validate(form.campaign_data(), crisis=crisis)
            if request.POST.get("confirm") == "launch":
                with transaction.atomic():
                    campaign_launch(crisis=crisis, user=user, request=campaign_request,
                                    idempotency_key=form.cleaned_data["idempotency_key"])  # fmt: skip
                return redirect("console:crisis", crisis_id=crisis.pk)
            dry_run = campaign_dry_run(crisis=crisis, user=user, request=campaign_request)
        except DomainError as problem:
            problems = problem_text(problem)
        else:
            confirm = request.POST.copy()
            confirm["idempotency_key"] = confirm.get("idempotency_key") or uuid.uuid4().hex
            return render(
                request,
                "console/campaign_confirm.html",
                {
                    "crisis": crisis,
                    "dry_run": dry_run,
                    "form": CampaignForm(confirm),
                    "campaign_request": campaign_request,
                },
            )
    else:
        problems = form_problems(form)
    return render(request, "console/problem.html", {"crisis": crisis, "problems": problems}, status=400)
