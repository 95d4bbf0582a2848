"""Every example in README.md and docs/*.md works as written, so a page that drifts from the code fails CI.

How the pages mark their examples (docs/api.md says so where its examples begin):

- **HTTP examples** are fenced ```http blocks, each right after a comment naming who sends it:
  ``<!-- example: as officer -->``. Personas: citizen, officer, supervisor, analyst (staff of a post over
  FJ, TO, WS and VU, as the demo post), admin (no post) and anyone (no credentials). In a block::

      METHOD /path                       the rest of the line is a comment
      {"a": "JSON body"}                 optional
      → 201 {"id": …, "status": "draft"} optional; without it any 2xx passes
      (the same with "key": value) → 202 {...}    the request again with that member changed

  A page's requests run in page order against the test database (each test replays those before it).
  ``{id}`` after ``/crises``, ``/trips`` or ``/campaigns`` is the last one an example created (201/202);
  ``"{id}"`` in a body's list under a key names the last one created of that kind (``"companions": ["{id}"]``).
  ``{token}`` is the check-in token of the citizen's link in the last campaign. A campaign accepted (202)
  is sent by the worker's task before the next request, with SMS written to files as in development.
  Every key shown after ``→`` must be in the answer, and every value shown must equal it (numbers within
  0.01 %) except ``…`` or ``"…"``, any value; ``…`` among an object's members or after a list's elements
  stands for more of them.
- **Commands** are the lines of ```sh blocks and the inline code spans naming ``manage.py`` or ``make``.
  Every ``manage.py`` command must exist and parse its documented arguments (placeholders such as
  ``<service role>`` or ``FILE`` stand as values); those in ``RUNNERS`` then run against the test database
  and must succeed, those in ``NOT_RUN`` say why they do not. ``make`` targets must be in the Makefile,
  scripts named must exist and be executable, and the WSGI application and gunicorn configuration the
  pages name must import.
- **Endpoints** named inline (``GET /api/v1/crises/{id}``, ``…/close``) must have a route taking that method;
  ``http://127.0.0.1:8000/…`` addresses a route (a trailing ``…`` is a prefix).
- **Links**: every relative link must point at a file that exists and, with ``#anchor``, at one of its
  headings (GitHub's rule: lower case, punctuation other than ``-`` and ``_`` dropped, spaces to ``-``).
"""

from __future__ import annotations

import importlib
import io
import json
import math
import os
import re
import shlex
import sys
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import Any

import pytest
from django.core import mail
from django.core.management import call_command, get_commands, load_command_class
from django.db import connection
from django.urls import Resolver404, get_resolver, resolve
from rest_framework.test import APIClient

from accounts.models import Role, User
from accounts.services import token_issue
from notifications import tasks
from notifications.messages import checkin_token
from notifications.models import Delivery
from registrations.models import Traveller
from registrations.selectors import contact_of
from tests.factories import PostFactory, StaffFactory, UserFactory

ROOT = Path(__file__).resolve().parents[2]
PAGES = ["README.md", *sorted(f"docs/{path.name}" for path in (ROOT / "docs").glob("*.md"))]
DEMO_COUNTRIES = ["FJ", "TO", "WS", "VU"]


# --- Reading the pages ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Block:
    page: str
    line: int  # of the opening fence
    lang: str
    lines: tuple[str, ...]
    comment: str | None  # the `<!-- example: … -->` right above the fence, if any

    def where(self, offset: int = 0) -> str:
        return f"{self.page}:{self.line + offset}"


@dataclass(frozen=True)
class Page:
    name: str
    blocks: tuple[Block, ...]
    prose: str  # the page with its fenced blocks blanked out (line numbers kept)

    def line_of(self, position: int) -> int:
        return self.prose.count("\n", 0, position) + 1


EXAMPLE_COMMENT = re.compile(r"^<!--\s*example:\s*(.*?)\s*-->$")


@cache
def page(name: str) -> Page:
    lines = (ROOT / name).read_text(encoding="utf-8").splitlines()
    blocks, prose = [], []
    opened: int | None = None
    for number, line in enumerate(lines, start=1):
        if line.startswith("```"):
            if opened is None:
                opened = number
            else:
                before = next((text.strip() for text in reversed(lines[: opened - 1]) if text.strip()), "")
                comment = EXAMPLE_COMMENT.match(before)
                blocks.append(
                    Block(name, opened, lines[opened - 1][3:].strip(), tuple(lines[opened:number - 1]),
                          comment[1] if comment else None)
                )  # fmt: skip
                opened = None
            prose.append("")
        else:
            prose.append("" if opened is not None else line)
    assert opened is None, f"{name}:{opened}: a fenced block is never closed"
    return Page(name, tuple(blocks), "\n".join(prose))


def all_blocks() -> list[Block]:
    return [block for name in PAGES for block in page(name).blocks]


@dataclass(frozen=True)
class Span:
    """An inline code span of the prose."""

    where: str
    text: str


def spans(name: str) -> list[Span]:
    text = page(name).prose
    return [
        Span(f"{name}:{page(name).line_of(match.start())}", " ".join(match[1].split()))
        for match in re.finditer(r"`([^`]+)`", text)
    ]


# --- HTTP examples ----------------------------------------------------------------------------------

REQUEST_LINE = re.compile(r"^(GET|POST|PUT|PATCH|DELETE) (/\S*)")
VARIANT_LINE = re.compile(r"^\(the same with (.*?)\)\s*(→.*)$")
ANSWER = re.compile(r"^→\s*(\d{3})\b\s*(.*)$", re.DOTALL)
PERSONAS = ("citizen", "officer", "supervisor", "analyst", "admin", "anyone")
NOTHING = object()  # no documented body


@dataclass(frozen=True)
class Request:
    where: str
    persona: str
    method: str
    path: str
    body: Any  # None: no body
    status: int | None
    answer: Any  # the documented response (see `documented`), or NOTHING
    number: int  # its place in the page's story

    def __str__(self) -> str:
        return self.where


def persona_of(block: Block) -> str:
    match = re.fullmatch(r"as (\w+)", block.comment or "")
    assert match and match[1] in PERSONAS, (
        f"{block.where()}: an http block needs `<!-- example: as PERSONA -->` above it, PERSONA one of {PERSONAS}"
    )
    return match[1]


def _answer(where: str, text: str) -> tuple[int | None, Any]:
    text = text.strip()
    if not text:
        return None, NOTHING
    match = ANSWER.match(text)
    assert match, f"{where}: expected `→ STATUS [body]`, got {text!r}"
    return int(match[1]), documented(match[2], where) if match[2].strip() else NOTHING


def requests_of(block: Block, first_number: int) -> list[Request]:
    """The requests of one http block, in order."""
    persona = persona_of(block)
    chunks: list[tuple[int, list[str]]] = []
    for offset, line in enumerate(block.lines, start=1):
        if REQUEST_LINE.match(line) or VARIANT_LINE.match(line):
            chunks.append((offset, [line]))
        elif chunks:
            chunks[-1][1].append(line)
        else:
            assert not line.strip(), f"{block.where(offset)}: text before the first request line"
    assert chunks, f"{block.where()}: an http block without a request line"
    requests: list[Request] = []
    for offset, (first, *rest) in chunks:
        where, body = block.where(offset), None
        variant = VARIANT_LINE.match(first)
        if variant:
            assert requests, f"{where}: `(the same with …)` needs a request before it in its block"
            before = requests[-1]
            assert isinstance(before.body, dict), f"{where}: `(the same with …)` changes a request with a body"
            body = {**before.body, **json.loads("{" + variant[1] + "}")}
            status, answer = _answer(where, "\n".join([variant[2], *rest]))
            method, path = before.method, before.path
        else:
            match = REQUEST_LINE.match(first)
            assert match is not None
            method, path = match[1], match[2]
            cut = next((n for n, line in enumerate(rest) if line.lstrip().startswith("→")), len(rest))
            text = "\n".join(rest[:cut]).strip()
            try:
                body = json.loads(text) if text else None
            except json.JSONDecodeError as exc:
                raise AssertionError(f"{where}: the request body is not JSON: {exc}") from None
            status, answer = _answer(where, "\n".join(rest[cut:]))
        requests.append(Request(where, persona, method, path, body, status, answer, first_number + len(requests)))
    return requests


@cache
def http_examples(name: str) -> tuple[Request, ...]:
    found: list[Request] = []
    for block in page(name).blocks:
        if block.lang == "http":
            found.extend(requests_of(block, len(found)))
    return tuple(found)


def all_http_examples() -> list[Request]:
    return [request for name in PAGES for request in http_examples(name)]


# A documented response: JSON, where `…` (or `...`) is any value, or more members or elements.
ANY = type("Any", (), {"__repr__": lambda self: "…"})()
MORE = type("More", (), {"__repr__": lambda self: "…more"})()
_decoder = json.JSONDecoder()


def documented(text: str, where: str) -> Any:
    reader = _Reader(text, where)
    value = reader.value()
    reader.skip()
    assert reader.at == len(text), f"{where}: unexpected text after the documented response: {text[reader.at :]!r}"
    return value


class _Reader:
    def __init__(self, text: str, where: str) -> None:
        self.text, self.where, self.at = text, where, 0

    def skip(self) -> None:
        while self.at < len(self.text) and self.text[self.at].isspace():
            self.at += 1

    def ellipsis(self) -> bool:
        self.skip()
        for mark in ("…", "..."):
            if self.text.startswith(mark, self.at):
                self.at += len(mark)
                return True
        return False

    def expect(self, *chars: str) -> str:
        self.skip()
        char = self.text[self.at : self.at + 1]
        assert char in chars, f"{self.where}: documented response: expected {chars} at {self.text[self.at :]!r}"
        self.at += 1
        return char

    def value(self) -> Any:
        if self.ellipsis():
            return ANY
        char = self.text[self.at : self.at + 1]
        if char == "{":
            return self.members()
        if char == "[":
            return self.elements()
        try:
            value, self.at = _decoder.raw_decode(self.text, self.at)
        except json.JSONDecodeError:
            raise AssertionError(f"{self.where}: documented response: no value at {self.text[self.at :]!r}") from None
        return ANY if value == "…" else value

    def members(self) -> dict:
        self.expect("{")
        out: dict = {}
        self.skip()
        if self.text.startswith("}", self.at):
            self.at += 1
            return out
        while True:
            if not self.ellipsis():
                self.skip()
                key, self.at = _decoder.raw_decode(self.text, self.at)
                self.expect(":")
                self.skip()
                out[key] = self.value()
            if self.expect(",", "}") == "}":
                return out

    def elements(self) -> list:
        self.expect("[")
        out: list = []
        self.skip()
        if self.text.startswith("]", self.at):
            self.at += 1
            return out
        while True:
            out.append(MORE if self.ellipsis() else self.value())
            if self.expect(",", "]") == "]":
                return out


def mismatches(shown: Any, actual: Any, at: str = "") -> list[str]:
    """How `actual` differs from what the page shows (keys missing, values different)."""
    name = at.rstrip(".") or "the body"
    if shown is ANY:
        return []
    if isinstance(shown, dict):
        if not isinstance(actual, dict):
            return [f"{name}: an object is shown, the answer has {actual!r}"]
        out = []
        for key, value in shown.items():
            if key not in actual:
                out.append(f"{at}{key}: shown, missing from the answer")
            else:
                out.extend(mismatches(value, actual[key], f"{at}{key}."))
        return out
    if isinstance(shown, list):
        if not isinstance(actual, list):
            return [f"{name}: a list is shown, the answer has {actual!r}"]
        more = bool(shown) and shown[-1] is MORE
        items = shown[:-1] if more else shown
        if len(actual) < len(items) or (not more and len(actual) != len(items)):
            return [f"{name}: {len(items)}{' or more' if more else ''} elements shown, the answer has {len(actual)}"]
        return [problem for n, item in enumerate(items) for problem in mismatches(item, actual[n], f"{at}{n}.")]
    numbers = (int, float)
    if isinstance(shown, numbers) and not isinstance(shown, bool):
        if isinstance(actual, numbers) and not isinstance(actual, bool):
            same = shown == actual if isinstance(shown, int) and isinstance(actual, int) else math.isclose(
                shown, actual, rel_tol=1e-4)  # fmt: skip
            if same:
                return []
    elif shown == actual and type(shown) is type(actual):
        return []
    return [f"{name}: shown {shown!r}, the answer has {actual!r}"]


class Story:
    """The state a page's examples build on: who sends them and what they created."""

    def __init__(self, *, worker: bool = True) -> None:
        self.worker = worker
        self.post = PostFactory.create(name="Demo Pacific Post", countries=DEMO_COUNTRIES)
        self.users: dict[str, User] = {}
        self.created: dict[str, str] = {}

    def user(self, persona: str) -> User:
        if persona not in self.users:
            if persona == "citizen":
                self.users[persona] = UserFactory.create()
            elif persona == "admin":
                self.users[persona] = StaffFactory.create(role=Role.ADMIN, post=None)
            else:
                self.users[persona] = StaffFactory.create(role=Role(persona), post=self.post)
        return self.users[persona]

    def client(self, persona: str) -> APIClient:
        client = APIClient()
        if persona != "anyone":
            client.credentials(HTTP_AUTHORIZATION=f"Bearer {token_issue(user=self.user(persona)).token}")
        return client

    def resolve(self, request: Request) -> str:
        def placeholder(match: re.Match) -> str:
            kind, name = match[1], match[2]
            if name == "token":
                traveller = Traveller.objects.get(user=self.user("citizen"))
                return checkin_token(self.known(request, "campaigns"), traveller.pk)
            assert name == "id", f"{request.where}: unknown placeholder {{{name}}}"
            return self.known(request, kind)

        return re.sub(r"(?<=/)([\w-]+)/\{(\w+)\}", lambda m: f"{m[1]}/{placeholder(m)}", request.path)

    def body_of(self, request: Request) -> Any:
        """The body with each ``"{id}"`` in a list under a key replaced by the last one created of that kind."""

        def filled(value: Any, kind: str = "") -> Any:
            if isinstance(value, dict):
                return {key: filled(member, key) for key, member in value.items()}
            if isinstance(value, list):
                return [self.known(request, kind) if item == "{id}" else filled(item) for item in value]
            return value

        return filled(request.body)

    def known(self, request: Request, kind: str) -> str:
        assert kind in self.created, f"{request.where}: no example before it created any {kind}"
        return self.created[kind]

    def send(self, request: Request) -> tuple[int, Any]:
        client, path = self.client(request.persona), self.resolve(request)
        send = getattr(client, request.method.lower())
        response = send(path, self.body_of(request), format="json") if request.body is not None else send(path)
        body = response.json() if response.content else None
        kind = request.path.rstrip("/").rsplit("/", 1)[-1]
        if response.status_code in (201, 202) and isinstance(body, dict) and "id" in body:
            self.created[kind] = body["id"]
            if kind == "campaigns" and self.worker:
                self.worker_sends(body["id"])
        return response.status_code, body

    @staticmethod
    def worker_sends(campaign_id: str) -> int:
        """What the worker does with a launched campaign's batches (here: all its deliveries in one)."""
        return tasks.send_batch(campaign_id, 0, 2**62)

    def play(self, request: Request) -> None:
        status, body = self.send(request)
        problems = []
        if request.status is not None and status != request.status:
            problems.append(f"status {status}, the page shows {request.status}")
        elif request.status is None and not 200 <= status < 300:
            problems.append(f"status {status}, not 2xx")
        if request.answer is not NOTHING and not problems:
            problems.extend(mismatches(request.answer, body))
        assert not problems, (
            f"{request.where}: {request.method} {request.path} as {request.persona}: " + "; ".join(problems)
            + f"\nanswer: {json.dumps(shortened(body), ensure_ascii=False)}"
        )  # fmt: skip


def shortened(value: Any) -> Any:
    """An answer to print: long lists (an area's coordinates) cut to their first elements."""
    if isinstance(value, dict):
        return {key: shortened(item) for key, item in value.items()}
    if isinstance(value, list):
        return [shortened(item) for item in value[:3]] + (["…"] if len(value) > 3 else [])
    return value


@pytest.fixture
def story(settings, tmp_path) -> Story:
    """Development's channels: email kept in memory, SMS written to files (as .local/sms), no SMS provider."""
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    settings.SMS_PROVIDER_URL = ""
    settings.SMS_FILE_PATH = str(tmp_path / "sms")
    return Story()


def play_until(story: Story, example: Request) -> None:
    """Every example of the page before this one, in order (each checked as well)."""
    name = example.where.split(":")[0]
    for earlier in http_examples(name)[: example.number]:
        story.play(earlier)


@pytest.mark.parametrize("example", all_http_examples(), ids=str)
def test_the_http_example_answers_as_the_page_shows(story, example):
    play_until(story, example)
    story.play(example)


def the_campaign_example() -> Request:
    launches = [
        request for request in all_http_examples()
        if request.path.endswith("/campaigns") and request.status == 202 and "sms" in request.body["channels"]
    ]  # fmt: skip
    assert len(launches) == 1, "the pages should show one campaign launched by email and SMS"
    return launches[0]


def test_the_campaign_example_by_email_and_sms_leaves_its_sms_in_files_in_development(settings, story, tmp_path):
    example = the_campaign_example()
    story.worker = False
    play_until(story, example)
    story.play(example)
    campaign_id = story.created["campaigns"]
    sms_folder = tmp_path / "sms"
    assert not sms_folder.exists() or not any(sms_folder.iterdir()), "nothing is sent before the worker runs"

    sent = story.worker_sends(campaign_id)

    sms = Delivery.objects.filter(campaign_id=campaign_id, channel="sms", status="sent").count()
    emails = Delivery.objects.filter(campaign_id=campaign_id, channel="email", status="sent").count()
    files = sorted(sms_folder.glob("*.txt"))
    assert sms >= 1 and len(files) == sms, f"{sms} SMS sent, {len(files)} files in {sms_folder}"
    assert emails >= 1 and len(mail.outbox) == emails and sent == sms + emails
    phone = contact_of(traveller=Traveller.objects.get(user=story.user("citizen"))).phone
    for path in files:
        text = path.read_text()
        assert text.startswith(f"To: {phone}\n") and f"{settings.PUBLIC_BASE_URL}/checkin/" in text, text


def test_every_request_in_a_code_block_is_an_http_example_that_runs():
    for block in all_blocks():
        for offset, line in enumerate(block.lines, start=1):
            if block.lang != "http" and REQUEST_LINE.match(line.strip()):
                pytest.fail(f"{block.where(offset)}: a request in a ```{block.lang} block: fence it as ```http")
        if block.lang == "http":
            assert requests_of(block, 0)


def test_every_code_block_is_of_a_kind_these_tests_know():
    known = {
        "http": "HTTP examples",
        "sh": "commands",
        "json": "the bulk import's line format",
        "sql": "statements an operator runs by hand in psql (a rollback): shown, not run",
        "": "diagrams",
    }
    for block in all_blocks():
        assert block.lang in known, f"{block.where()}: ```{block.lang}: teach tests/docs/test_examples.py about it"
        if block.lang == "json":
            assert block == import_format_block(), f"{block.where()}: which example is this ```json block?"


# --- Commands ---------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Command:
    where: str
    text: str
    words: tuple[str, ...] = field(compare=False)

    def __str__(self) -> str:
        return f"{self.where} {self.text}"

    @property
    def program(self) -> str:
        return next((word for word in self.words if not re.match(r"^\w+=", word)), "")

    @property
    def manage(self) -> tuple[str, ...]:
        """The command name and arguments after `manage.py` (none if it is not a manage.py command)."""
        return self.words[self.words.index("manage.py") + 1 :] if "manage.py" in self.words else ()

    @property
    def name(self) -> str:
        """The manage.py command, or the program run."""
        return self.manage[0] if self.manage else self.program


def words_of(text: str) -> tuple[str, ...]:
    # `<service role>` is one value; `[--ledger FILE …]` shows an optional part.
    text = re.sub(r"<([^>]*)>", lambda match: "<" + "-".join(match[1].split()) + ">", text)
    text = re.sub(r"(?<!\S)…(?!\S)", " ", re.sub(r"[\[\]]", " ", text))
    return tuple(shlex.split(text, comments=True))


def commands() -> list[Command]:
    found = []
    for name in PAGES:
        for block in page(name).blocks:
            if block.lang == "sh":
                logical, start = "", 0
                for offset, line in enumerate(block.lines, start=1):
                    start = start or offset
                    logical += line.rstrip().removesuffix("\\") + " "
                    if not line.rstrip().endswith("\\"):
                        if words_of(logical):
                            text = re.sub(r"\s+#\s.*$", "", " ".join(logical.split()))  # without its comment
                            found.append(Command(block.where(start), text, words_of(logical)))
                        logical, start = "", 0
        for span in spans(name):
            if "manage.py " in span.text or span.text.startswith("make "):
                found.append(Command(span.where, span.text, words_of(span.text)))
    return found


def manage_commands() -> list[Command]:
    return [command for command in commands() if command.manage]


# Documented placeholders and the values they stand for when parsed.
PARSE_VALUES = {"N": "2"}


def parser_of(name: str):
    registry = get_commands()
    assert name in registry, f"there is no manage.py command {name!r}"
    parser = load_command_class(registry[name], name).create_parser("manage.py", name)
    parser.allow_abbrev = False  # a page spells options in full: `--rewrap` must not pass for `--rewrap-only`
    return parser


@pytest.mark.parametrize("command", manage_commands(), ids=str)
def test_the_documented_manage_py_command_exists_and_its_arguments_parse(command):
    name, *args = command.manage
    parser_of(name).parse_args([PARSE_VALUES.get(arg, arg) for arg in args])


@dataclass
class Run:
    """What a command needs to run here: placeholder values, extra options, and the test's fixtures."""

    tmp_path: Path
    settings: Any
    monkeypatch: pytest.MonkeyPatch
    request: pytest.FixtureRequest
    values: dict[str, str] = field(default_factory=lambda: {"N": "1"})
    options: dict[str, Any] = field(default_factory=dict)


def _as_is(run: Run) -> None:
    pass


def _demo_credentials_in_tmp(run: Run) -> None:
    run.settings.LOCAL_DIR = run.tmp_path


def _anchors_in_tmp(run: Run) -> None:
    run.settings.AUDIT_ANCHOR_FILE = str(run.tmp_path / "audit-anchors.jsonl")


def _a_ledger_file(run: Run) -> None:
    ledger = run.tmp_path / "ledger.jsonl"
    ledger.touch()
    run.values["FILE"] = str(ledger)


def _password_on_stdin(run: Run) -> None:
    run.monkeypatch.setattr(sys, "stdin", io.StringIO("a long and unguessable passphrase\n"))


def _a_register_file(run: Run) -> None:
    path = run.tmp_path / "register.jsonl"
    path.write_text(json.dumps(import_line()) + "\n")
    run.values["register.jsonl"] = str(path)


def _a_key_file(run: Run) -> None:
    run.request.getfixturevalue("key_file")


def _a_service_role(run: Run) -> None:
    with connection.cursor() as cursor:
        cursor.execute("SELECT rolcreaterole OR rolsuper FROM pg_roles WHERE rolname = current_user")
        if not cursor.fetchone()[0]:
            pytest.skip("the test database's role may not create roles")
        role = f"consular_service_{uuid.uuid4().hex[:8]}"
        cursor.execute(f'CREATE ROLE "{role}" NOLOGIN')  # transactional: the test's rollback drops it
    run.values["<service-role>"] = run.values["consular_service"] = role


def _static_root_in_tmp(run: Run) -> None:
    run.settings.STATIC_ROOT = str(run.tmp_path / "static")
    run.options["interactive"] = False


# manage.py commands run for real, each with what it needs to run in a test.
RUNNERS: dict[str, Callable[[Run], None]] = {
    "load_demo": _demo_credentials_in_tmp,
    "verify_audit": _anchors_in_tmp,
    "purge_expired": _as_is,
    "reapply_erasures": _a_ledger_file,
    "create_staff": _password_on_stdin,
    "import_registrations": _a_register_file,
    "rotate_keys": _a_key_file,
    "grant_service_role": _a_service_role,
    "reindex_emails": _as_is,
    "place_city_stays_again": _as_is,
    "fill_birth_months": _as_is,
    "ingest_feed": _as_is,
    "collectstatic": _static_root_in_tmp,
}

# Documented commands deliberately not run here, and why (only their parts are checked).
NOT_RUN = {
    "migrate": "pytest-django has just migrated the test database: that is this command, run",
    "check": "`check --deploy` is for production settings: tests/consular/test_production_settings.py runs it there",
    "qcluster": "the worker runs until stopped: tests/consular/test_worker.py starts one",
    "psql": "creates a cluster-wide role as a database administrator (grant_service_role runs on a role of its own)",
}


@pytest.mark.parametrize("command", [c for c in manage_commands() if c.name in RUNNERS], ids=str)
def test_the_documented_manage_py_command_runs_on_the_test_database(command, tmp_path, settings, monkeypatch, request):
    name, *args = command.manage
    run = Run(tmp_path, settings, monkeypatch, request)
    RUNNERS[name](run)
    out, err = io.StringIO(), io.StringIO()
    call_command(name, *[run.values.get(arg, arg) for arg in args], stdout=out, stderr=err, **run.options)


def test_every_documented_command_is_run_or_listed_with_the_reason_it_is_not():
    for command in commands():
        assert command.name == "make" or command.name in RUNNERS or command.name in NOT_RUN, (
            f"{command}: run it in RUNNERS, or say in NOT_RUN why not"
        )
    documented = {command.name for command in commands()}
    assert set(NOT_RUN) <= documented, f"no page shows {set(NOT_RUN) - documented} any more: drop it from NOT_RUN"


def import_format_block() -> Block:
    found = [block for block in all_blocks() if block.lang == "json" and '{"profile":' in "".join(block.lines)]
    assert len(found) == 1, "the bulk import's line format should be shown once"
    return found[0]


def import_line() -> dict:
    """The documented line format, with the API bodies it refers to taken from the HTTP examples."""
    block = import_format_block()
    bodies = {(request.method, request.path): request.body for request in all_http_examples()}

    def body(match: re.Match) -> str:
        method, path = match[2], match[3]
        assert (method, path) in bodies, f"{block.where()}: no HTTP example shows {method} {path}"
        return json.dumps(bodies[(method, path)])

    def with_members(match: re.Match) -> str:  # {"ref": "son", <as …>}: the body with those members first
        return "{" + match[1] + body(match)[1:]

    text = re.sub(r"\{((?:\"\w+\": \"\w+\", )*)<as (\w+) (\S+)>\}", with_members, "\n".join(block.lines))
    refs = re.findall(r'"ref": "(\w+)"', text)
    # The bodies name companions by the id the API gave ("{id}"); a line names them by ref.
    text = text.replace('"{id}"', json.dumps(refs[0]) if refs else '"{id}"')
    return json.loads(re.sub(r",\s*…", "", text))


def test_a_line_in_the_documented_import_format_is_imported(tmp_path):
    path = tmp_path / "register.jsonl"
    path.write_text(json.dumps(import_line()) + "\n")
    out, err = io.StringIO(), io.StringIO()
    call_command("import_registrations", str(path), "--workers", "1", stdout=out, stderr=err)
    assert out.getvalue().startswith("imported 1, rejected 0, duplicates 0"), out.getvalue() + err.getvalue()
    assert "; 2 people with their companions" in out.getvalue()


@cache
def make_targets() -> frozenset[str]:
    text = (ROOT / "Makefile").read_text()
    return frozenset(re.findall(r"^([\w.-]+)\s*:(?!=)", text, flags=re.MULTILINE))


@pytest.mark.parametrize("command", [c for c in commands() if c.program == "make"], ids=str)
def test_the_documented_make_target_is_in_the_makefile(command):
    # NAME=value words set make variables (and the recipes' environment); the rest are targets.
    targets = [word for word in command.words[command.words.index("make") + 1 :] if "=" not in word]
    assert targets and set(targets) <= make_targets(), f"{command}: the Makefile has {sorted(make_targets())}"


def script_mentions() -> list[Span]:
    found = []
    for name in PAGES:
        texts = [*spans(name), *(Span(c.where, c.text) for c in commands() if c.where.startswith(f"{name}:"))]
        for span in texts:
            for match in re.finditer(r"(?<![\w/.])((?:scripts|bench)/[\w./-]*|\.ci/run)", span.text):
                found.append(Span(span.where, match[1]))
    return found


@pytest.mark.parametrize("mention", script_mentions(), ids=lambda span: f"{span.where} {span.text}")
def test_the_documented_script_exists_and_can_be_run(mention):
    path = ROOT / mention.text
    assert path.exists(), f"{mention.where}: {mention.text} does not exist"
    if path.is_file() and not path.name.endswith(".py"):
        assert os.access(path, os.X_OK), f"{mention.where}: {mention.text} is not executable"


def test_the_wsgi_application_and_gunicorn_configuration_the_docs_name_import():
    named = [span for name in PAGES for span in spans(name)]
    applications = [s for s in named if re.fullmatch(r"config\.[\w.]+:\w+", s.text)]
    configurations = [s for s in named if re.search(r"python:[\w.]+", s.text)]
    assert applications and configurations
    for span in applications:
        module, attribute = span.text.split(":")
        assert callable(getattr(importlib.import_module(module), attribute)), span.where
    for span in configurations:
        named_module = re.search(r"python:([\w.]+)", span.text)
        assert named_module and importlib.import_module(named_module[1]).preload_app, span.where


# --- Endpoints named in the prose -----------------------------------------------------------------

ENDPOINT = re.compile(r"^((?:GET|POST|PUT|PATCH|DELETE)(?:/(?:GET|POST|PUT|PATCH|DELETE))*) ((?:/|…/)\S*)|^(…/\S+)$")
SAMPLE_ID = str(uuid.UUID(int=1))


@dataclass(frozen=True)
class Endpoint:
    where: str
    methods: tuple[str, ...]
    path: str  # absolute, as documented or completed from the path before it

    def __str__(self) -> str:
        return f"{self.where} {'/'.join(self.methods)} {self.path}"


@cache
def routes() -> tuple[str, ...]:
    """Every URL pattern, as `/api/v1/crises/<uuid:crisis_id>`."""

    def walk(patterns, prefix: str) -> Iterator[str]:
        for pattern in patterns:
            text = prefix + str(pattern.pattern)
            if hasattr(pattern, "url_patterns"):
                yield from walk(pattern.url_patterns, text)
            elif pattern.name != "api-not-found":
                yield "/" + text

    return tuple(walk(get_resolver().url_patterns, ""))


def route(path: str):
    sample = re.sub(r"\{[^}]*\}|<[^>]*>", SAMPLE_ID, path.split("?")[0])
    try:
        match = resolve(sample)
    except Resolver404:
        return None
    return None if match.url_name == "api-not-found" else match


def endpoints() -> list[Endpoint]:
    found = []
    for name in PAGES:
        # `…/close` completes the path named before it, inline or in an example, with its method.
        shown: list[tuple[int, Span | Request]] = [
            (int(span.where.split(":")[1]), span) for span in spans(name) if ENDPOINT.match(span.text)
        ]
        shown += [(int(request.where.split(":")[1]), request) for request in http_examples(name)]
        last, methods = "", ("GET",)
        for _, item in sorted(shown, key=lambda pair: pair[0]):
            if isinstance(item, Request):
                last, methods = item.path, (item.method,)
                continue
            match = ENDPOINT.match(item.text)
            assert match is not None
            methods = tuple(match[1].split("/")) if match[1] else methods
            path = match[2] or match[3]
            if path.startswith("…/"):
                ancestors = [last]
                while ancestors[-1].count("/") > 1:
                    ancestors.append(ancestors[-1].rsplit("/", 1)[0])
                path = next((a + path[1:] for a in ancestors if last and route(a + path[1:])), path)
            found.append(Endpoint(item.where, methods, path))
            last = path
        for match in re.finditer(r"http://127\.0\.0\.1:8000(/[^\s|)`]*)", page(name).prose):
            found.append(Endpoint(f"{name}:{page(name).line_of(match.start())}", ("GET",), match[1]))
    return found


@pytest.mark.parametrize("endpoint", endpoints(), ids=str)
def test_the_documented_endpoint_has_a_route_taking_its_method(endpoint):
    if endpoint.path.endswith("…"):
        prefix = endpoint.path.removesuffix("…")
        assert any(known.startswith(prefix) for known in routes()), f"{endpoint}: no route under {prefix}"
        return
    match = route(endpoint.path)
    assert match, f"{endpoint}: no route"
    view = getattr(match.func, "view_class", None)
    if view is None:
        return  # a function view: health probes, the check-in page
    allowed = set(getattr(match.func, "view_initkwargs", {}).get("http_method_names", view.http_method_names))
    for method in endpoint.methods:
        assert method.lower() in allowed and hasattr(view, method.lower()), (
            f"{endpoint}: {view.__name__} has no {method}"
        )


# --- Links ---------------------------------------------------------------------------------------


@cache
def anchors(name: str) -> frozenset[str]:
    """The anchors GitHub gives the page's headings (a repeated heading gets -1, -2, …)."""
    found: set[str] = set()
    repeats: dict[str, int] = {}
    for line in page(name).prose.splitlines():
        heading = re.match(r"^#{1,6}\s+(.*?)\s*#*$", line)
        if heading:
            text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", heading[1]).replace("`", "").lower()
            slug = re.sub(r"[^\w\- ]", "", text).replace(" ", "-")
            found.add(f"{slug}-{repeats[slug]}" if slug in repeats else slug)
            repeats[slug] = repeats.get(slug, 0) + 1
    return frozenset(found)


@dataclass(frozen=True)
class Link:
    where: str
    target: str

    def __str__(self) -> str:
        return f"{self.where} {self.target}"


def links() -> Iterator[Link]:
    for name in PAGES:
        text = re.sub(r"`[^`]*`", lambda match: " " * len(match[0]), page(name).prose)
        for match in re.finditer(r"(?<!!)\[[^\]]*\]\(([^)\s]+)\)", text):
            if not re.match(r"^[a-z]+:", match[1]):  # not http:, https:, mailto:
                yield Link(f"{name}:{page(name).line_of(match.start())}", match[1])


@pytest.mark.parametrize("link", list(links()), ids=str)
def test_the_relative_link_points_at_a_file_and_heading_that_exist(link):
    name = link.where.split(":")[0]
    file, _, anchor = link.target.partition("#")
    target = (ROOT / name).parent / file if file else ROOT / name
    assert target.exists(), f"{link}: no file {file}"
    if anchor:
        assert target.suffix == ".md", f"{link}: an anchor into a file that is not a page"
        relative = str(target.resolve().relative_to(ROOT))
        assert anchor in anchors(relative), f"{link}: {relative} has no heading #{anchor}"
