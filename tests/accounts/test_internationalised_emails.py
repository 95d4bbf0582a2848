"""An internationalised email domain is one mailbox whether it is typed in Unicode or in punycode."""

import io

import pytest
from django.core.management import call_command

from accounts.models import User
from accounts.services import user_create
from consular.crypto import blind_index, email_blind_index, normalise_email, seal
from registrations.models import Traveller
from tests.accounts.test_signup_and_tokens import GOOD_PASSWORD, login, register
from tests.factories import profile_payload, registered_citizen

UNICODE = "ana@bücher.example"
PUNYCODE = "ana@xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (PUNYCODE, UNICODE),
        ("Ana@BÜCHER.Example", UNICODE),
        ("ana@ｂüｃｈｅｒ.example", UNICODE),  # full-width letters, mapped by UTS 46
        (" Ana@Example.COM ", "ana@example.com"),
        ("ana@xn--zz.example", "ana@xn--zz.example"),  # not valid punycode: left for validation to judge
    ],
)
def test_normalise_email_gives_one_form_per_mailbox(typed, stored):
    assert normalise_email(typed) == stored


def test_signing_up_with_the_punycode_form_of_a_taken_address_conflicts(api):
    assert register(api, email=UNICODE).status_code == 201
    assert register(api, email=PUNYCODE).status_code == 409
    assert User.objects.count() == 1


def test_an_account_logs_in_with_either_form_of_its_domain(api):
    register(api, email=PUNYCODE)
    assert login(api, email=UNICODE).status_code == 200
    assert login(api, email=PUNYCODE).status_code == 200


def _index_the_old_way(user: User, typed: str) -> None:
    """As accounts were written before domains were normalised: the address as typed, lower-cased."""
    seal(user.cipher(), user, "email", typed)
    user.email_bidx = blind_index(typed, domain="email")
    user.save(update_fields=["email_enc", "email_bidx"])


def test_reindex_emails_lets_an_account_indexed_before_log_in_with_either_form(api):
    user = user_create(email="someone@example.test", password=GOOD_PASSWORD)
    _index_the_old_way(user, PUNYCODE)
    assert login(api, email=UNICODE).status_code == 401

    out = io.StringIO()
    call_command("reindex_emails", stdout=out)

    assert "accounts re-indexed: 1;" in out.getvalue()
    assert login(api, email=UNICODE).status_code == 200
    assert login(api, email=PUNYCODE).status_code == 200


def test_reindex_emails_reports_two_accounts_sharing_a_mailbox_by_id_and_changes_neither():
    first = user_create(email=UNICODE, password=None)
    second = user_create(email="someone@example.test", password=None)
    _index_the_old_way(second, PUNYCODE)
    out, err = io.StringIO(), io.StringIO()

    call_command("reindex_emails", stdout=out, stderr=err)

    assert str(second.id) in err.getvalue()
    assert "bücher" not in err.getvalue() and "bcher" not in err.getvalue()  # ids, never addresses
    assert User.objects.get(id=first.id).email_bidx == email_blind_index(UNICODE)
    assert User.objects.get(id=second.id).email_bidx == blind_index(PUNYCODE, domain="email")


def test_reindex_emails_lets_an_import_recognise_a_registration_indexed_before(tmp_path):
    from registrations.services import contact_email_blind_index
    from tests.registrations.test_import import line, run_import

    user = registered_citizen(profile=profile_payload(email=UNICODE, passport_number=None))
    traveller = Traveller.objects.select_related("data_key").get(user=user)
    seal(traveller.data_key.cipher(), traveller, "email", PUNYCODE)
    traveller.email_bidx = contact_email_blind_index(PUNYCODE)
    traveller.save(update_fields=["email_enc", "email_bidx"])

    call_command("reindex_emails", stdout=io.StringIO())
    out, _ = run_import(tmp_path, [line(email=UNICODE, passport_number=None)])

    assert "imported 0, rejected 0, duplicates 1" in out


def test_an_import_sees_both_forms_of_one_address_as_one_traveller(tmp_path):
    from tests.registrations.test_import import line, run_import

    out, _ = run_import(
        tmp_path, [line(email=UNICODE, passport_number=None), line(email=PUNYCODE, passport_number=None)]
    )

    assert "imported 1, rejected 0, duplicates 1" in out
