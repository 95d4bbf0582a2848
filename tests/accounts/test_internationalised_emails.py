"""An internationalised email domain is one mailbox whether it is typed in Unicode or in punycode."""

import io

import pytest
from django.core import mail
from django.core.management import call_command

from accounts.models import User
from accounts.services import user_create
from consular.crypto import blind_index, email_blind_index, normalise_email, seal
from consular.models import DataKey
from notifications.channels import EmailChannel
from registrations.models import Traveller
from tests.accounts.test_signup_and_tokens import GOOD_PASSWORD, login, register
from tests.factories import profile_payload, registered_citizen

UNICODE = "ana@bücher.example"
PUNYCODE = "ana@xn--bcher-kva.example"


@pytest.mark.parametrize(
    ("typed", "stored"),
    [
        (UNICODE, PUNYCODE),
        (PUNYCODE, PUNYCODE),
        ("Ana@BÜCHER.Example", PUNYCODE),
        ("ana@ｂüｃｈｅｒ.example", PUNYCODE),  # full-width letters, mapped by UTS 46
        ("user@faß.de", "user@xn--fa-hia.de"),  # IDNA 2008: not fass.de, as IDNA 2003 would have it
        ("ana@𠮷野家.jp", "ana@xn--fctt27jo60v.jp"),  # beyond the Basic Multilingual Plane
        # Greek capitals with a final capital sigma: the mapping gives the medial sigma,
        # where str.lower would give the final one, another domain.
        ("u@\u0391\u03a3-\u0392.gr", "u@xn----ylbe0e.gr"),
        ("u@\u03b1\u03c3-\u03b2.gr", "u@xn----ylbe0e.gr"),
        ("u@☃.net", "u@xn--n3h.net"),  # refused by IDNA 2008: IDNA 2003's form, where mail to it goes
        ("U@xn--n3h.NET", "u@xn--n3h.net"),
        (" Ana@Example.COM ", "ana@example.com"),
        ("ana@xn--zz.example", "ana@xn--zz.example"),  # not valid punycode: left for validation to judge
    ],
)
def test_normalise_email_gives_one_ascii_form_per_mailbox(typed, stored):
    assert normalise_email(typed) == stored
    assert normalise_email(stored) == stored


def test_signing_up_with_the_unicode_form_of_a_taken_address_conflicts(api):
    assert register(api, email=PUNYCODE).status_code == 201
    assert register(api, email=UNICODE).status_code == 409
    assert User.objects.count() == 1


def test_an_account_logs_in_with_either_form_of_its_domain(api):
    register(api, email=UNICODE)
    assert login(api, email=UNICODE).status_code == 200
    assert login(api, email=PUNYCODE).status_code == 200


def test_a_domain_beyond_the_basic_multilingual_plane_can_sign_up_in_either_form(api):
    assert register(api, email="ana@xn--fctt27jo60v.jp").status_code == 201
    assert register(api, email="ana@𠮷野家.jp").status_code == 409


def test_mail_to_an_address_stored_with_a_unicode_domain_goes_to_its_idna_2008_domain():
    EmailChannel().send(to="user@faß.de", subject="s", text="t", idempotency_key="k1")
    assert mail.outbox[0].to == ["user@xn--fa-hia.de"]


def _index_the_old_way(user: User, typed: str) -> None:
    """As accounts were written before domains were normalised: the address as typed, lower-cased."""
    seal(user.cipher(), user, "email", typed)
    user.email_bidx = blind_index(typed, domain="email")
    user.save(update_fields=["email_enc", "email_bidx"])


def test_reindex_emails_lets_an_account_stored_before_log_in_with_either_form(api):
    user = user_create(email="someone@example.test", password=GOOD_PASSWORD)
    _index_the_old_way(user, UNICODE)
    assert login(api, email=PUNYCODE).status_code == 401

    out = io.StringIO()
    call_command("reindex_emails", stdout=out)

    assert "accounts re-indexed: 1;" in out.getvalue()
    assert User.objects.select_related("data_key").get(id=user.id).email == PUNYCODE
    assert login(api, email=UNICODE).status_code == 200
    assert login(api, email=PUNYCODE).status_code == 200


def test_reindex_emails_reports_two_accounts_sharing_a_mailbox_by_id_and_changes_neither():
    first = user_create(email=PUNYCODE, password=None)
    second = user_create(email="someone@example.test", password=None)
    _index_the_old_way(second, UNICODE)
    out, err = io.StringIO(), io.StringIO()

    call_command("reindex_emails", stdout=out, stderr=err)

    assert str(second.id) in err.getvalue()
    assert "bücher" not in err.getvalue() and "bcher" not in err.getvalue()  # ids, never addresses
    assert User.objects.get(id=first.id).email_bidx == email_blind_index(PUNYCODE)
    assert User.objects.get(id=second.id).email_bidx == blind_index(UNICODE, domain="email")


def test_reindex_emails_reports_an_unreadable_account_and_carries_on_with_the_others():
    broken = user_create(email="broken@example.test", password=None)
    DataKey.objects.filter(id=broken.data_key_id).update(wrapped=b"\x00" * 60)
    others = [user_create(email=f"other{n}@example.test", password=None) for n in range(3)]
    for user in others:
        _index_the_old_way(user, f"{user.id.hex[:6]}@bücher.example")
    out, err = io.StringIO(), io.StringIO()

    call_command("reindex_emails", stdout=out, stderr=err)

    assert f"account {broken.id}: email does not decrypt" in err.getvalue()
    assert "accounts re-indexed: 3;" in out.getvalue()


def test_reindex_emails_lets_an_import_recognise_a_registration_stored_before(tmp_path):
    from registrations.services.profiles import contact_email_blind_index
    from tests.registrations.test_import import line, run_import

    user = registered_citizen(profile=profile_payload(email=PUNYCODE, passport_number=None))
    traveller = Traveller.objects.select_related("data_key").get(user=user)
    seal(traveller.data_key.cipher(), traveller, "email", UNICODE)
    traveller.email_bidx = contact_email_blind_index(UNICODE)
    traveller.save(update_fields=["email_enc", "email_bidx"])

    call_command("reindex_emails", stdout=io.StringIO())
    out, _ = run_import(tmp_path, [line(email=PUNYCODE, passport_number=None)])

    assert "imported 0, rejected 0, duplicates 1" in out
    traveller = Traveller.objects.select_related("data_key").get(user=user)
    assert traveller.email_enc is not None
    assert (
        traveller.data_key.cipher().decrypt(
            bytes(traveller.email_enc), table="registrations_traveller", field="email", row_id=traveller.pk
        )
        == PUNYCODE
    )


def test_an_import_sees_both_forms_of_one_address_as_one_traveller(tmp_path):
    from tests.registrations.test_import import line, run_import

    out, _ = run_import(
        tmp_path, [line(email=UNICODE, passport_number=None), line(email=PUNYCODE, passport_number=None)]
    )

    assert "imported 1, rejected 0, duplicates 1" in out
