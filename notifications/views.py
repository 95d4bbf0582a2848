"""The check-in page behind the link in a message: plain HTML, no JavaScript, CSRF-protected."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.csrf import ensure_csrf_cookie
from django.views.decorators.http import require_http_methods

from consular.errors import DomainError
from notifications.services import checkins

TEXT = {
    "en": {
        "title": "Are you safe?",
        "intro": "Your embassy is checking on citizens near: {crisis}",
        "safe": "I am safe",
        "help": "I need help",
        "message": "Message for the embassy (optional)",
        "thanks_safe": "Thank you. Your answer: you are safe.",
        "thanks_help": "Thank you. Your answer: you need help. The embassy will contact you.",
        "change": "You can change your answer until the embassy closes this check-in.",
        "gone": "This check-in link is no longer valid.",
        "missing": "This check-in link is not valid.",
        "all_safe": "We are all safe",
        "with_you": "The people registered with you:",
        "is_safe": "Safe",
        "needs_help": "Needs help",
        "no_answer": "no answer yet",
    },
    "fr": {
        "title": "Êtes-vous en sécurité ?",
        "intro": "Votre ambassade prend des nouvelles des ressortissants proches de : {crisis}",
        "safe": "Je suis en sécurité",
        "help": "J'ai besoin d'aide",
        "message": "Message pour l'ambassade (facultatif)",
        "thanks_safe": "Merci. Votre réponse : vous êtes en sécurité.",
        "thanks_help": "Merci. Votre réponse : vous avez besoin d'aide. L'ambassade vous contactera.",
        "change": "Vous pouvez modifier votre réponse jusqu'à la clôture par l'ambassade.",
        "gone": "Ce lien n'est plus valable.",
        "missing": "Ce lien n'est pas valable.",
        "all_safe": "Nous sommes tous en sécurité",
        "with_you": "Les personnes inscrites avec vous :",
        "is_safe": "En sécurité",
        "needs_help": "A besoin d'aide",
        "no_answer": "pas encore de réponse",
    },
    "es": {
        "title": "¿Está a salvo?",
        "intro": "Su embajada está contactando a los ciudadanos cerca de: {crisis}",
        "safe": "Estoy a salvo",
        "help": "Necesito ayuda",
        "message": "Mensaje para la embajada (opcional)",
        "thanks_safe": "Gracias. Su respuesta: está a salvo.",
        "thanks_help": "Gracias. Su respuesta: necesita ayuda. La embajada se pondrá en contacto.",
        "change": "Puede cambiar su respuesta hasta que la embajada cierre este control.",
        "gone": "Este enlace ya no es válido.",
        "missing": "Este enlace no es válido.",
        "all_safe": "Todos estamos a salvo",
        "with_you": "Las personas inscritas con usted:",
        "is_safe": "A salvo",
        "needs_help": "Necesita ayuda",
        "no_answer": "sin respuesta aún",
    },
}


def _text(language: str) -> tuple[str, dict[str, str]]:
    primary = (language or "en").split("-")[0].lower()
    return (primary, TEXT[primary]) if primary in TEXT else ("en", TEXT["en"])


def _no_store(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = "no-store"
    # The token is in the URL: no other site may ever see it in a Referer. "same-origin" rather
    # than "no-referrer": under no-referrer a browser sends the form's answer with "Origin: null"
    # (the Fetch standard), which CSRF protection rightly refuses, and nobody could answer.
    response["Referrer-Policy"] = "same-origin"
    return response


@ensure_csrf_cookie
@require_http_methods(["GET", "POST"])
def checkin_page(request: HttpRequest, token: str) -> HttpResponse:
    try:
        link = checkins.checkin_context(token)
    except DomainError as error:
        lang, text = _text(request.headers.get("Accept-Language", "en")[:2])
        message = text["gone"] if error.status == 410 else text["missing"]
        page = render(request, "notifications/checkin.html", {"lang": lang, "t": text, "problem": message})
        page.status_code = error.status
        return _no_store(page)
    language = link.companion.language if link.companion is not None and link.companion.language else None
    lang, text = _text(language or link.traveller.language)
    context: dict = {"lang": lang, "t": text, "intro": text["intro"].format(crisis=link.campaign.crisis.title)}
    if request.method == "POST":
        try:
            checkins.checkin_record(
                token=token, message=request.POST.get("message", "")[:500] or None, **_posted(request)
            )
        except DomainError as error:
            page = render(request, "notifications/checkin.html", {**context, "problem": error.message})
            page.status_code = error.status
            return _no_store(page)
    answers = checkins.checkin_answers(link)
    if answers["status"] is not None:
        context["answered"] = text["thanks_safe"] if answers["status"] == "safe" else text["thanks_help"]
    labels = {"safe": text["is_safe"], "need_help": text["needs_help"], None: text["no_answer"]}
    context["others"] = [
        {"id": person["id"], "name": person["given_name"], "answer": labels[person["status"]]}
        for person in answers["persons"][1:]
    ]
    return _no_store(render(request, "notifications/checkin.html", context))


def _posted(request: HttpRequest) -> dict:
    """The form's answer: the holder's own (status), everyone's (all), or one other person's ("<id>:<status>")."""
    if "all" in request.POST:
        return {"all": request.POST["all"]}
    if "person" in request.POST:
        person, _, status = request.POST["person"].partition(":")
        return {"persons": {person: status}}
    return {"status": request.POST.get("status", "")}
