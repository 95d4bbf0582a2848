import pytest
from django.core import signing
from django.test import Client

from notifications import messages
from notifications.models import CheckIn
from notifications.services import campaigns
from tests.factories import traveller_with_stay


@pytest.fixture
def campaign_and_traveller(olivia, active_crisis, sms):
    traveller = traveller_with_stay(lon=178.0, lat=-18.0, given_name="Mele")
    request = campaigns.campaign_validate(
        {"messages": {"en": "Are you safe? {checkin_url}"}, "default_language": "en", "channels": ["sms"],
         "ask_checkin": True, "include_country_only": False},
        crisis=active_crisis,
    )  # fmt: skip
    campaign = campaigns.campaign_launch(crisis=active_crisis, user=olivia, request=request)
    return campaign, traveller


@pytest.fixture
def token(campaign_and_traveller):
    campaign, traveller = campaign_and_traveller
    return messages.checkin_token(campaign.pk, traveller.pk)


def test_the_api_shows_the_crisis_title_and_the_current_answer_only(api, token, active_crisis):
    body = api.get(f"/api/v1/checkins/{token}").json()
    assert body == {
        "crisis": active_crisis.title,
        "status": None,
        "persons": [{"id": "self", "given_name": body["persons"][0]["given_name"], "status": None}],
    }


def test_a_traveller_answers_and_may_change_their_answer(api, token):
    assert (
        api.post(f"/api/v1/checkins/{token}", {"status": "need_help", "message": "Roof gone"}, format="json").json()[
            "status"
        ]
        == "need_help"
    )
    assert api.post(f"/api/v1/checkins/{token}", {"status": "safe"}, format="json").json()["status"] == "safe"
    assert CheckIn.objects.count() == 1


def test_the_message_is_encrypted_at_rest(api, token):
    from django.db import connection

    api.post(f"/api/v1/checkins/{token}", {"status": "need_help", "message": "Trapped near the harbour"}, format="json")
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(c)::text FROM notifications_checkin c")
        assert "harbour" not in cursor.fetchone()[0]


def test_a_forged_token_is_404_revealing_nothing(api, token):
    forged = token[:-4] + ("AAAA" if not token.endswith("AAAA") else "BBBB")
    response = api.get(f"/api/v1/checkins/{forged}")
    assert response.status_code == 404
    assert response.json() == {"error": {"code": "not_found", "message": "Not found."}}


def test_an_expired_token_is_410(api, token, settings):
    settings.CHECKIN_TOKEN_MAX_AGE_SECONDS = -1
    assert api.get(f"/api/v1/checkins/{token}").status_code == 410


def test_a_closed_campaign_is_410(api, token, campaign_and_traveller, olivia):
    campaigns.campaign_close(campaign=campaign_and_traveller[0], user=olivia)
    assert api.post(f"/api/v1/checkins/{token}", {"status": "safe"}, format="json").status_code == 410


@pytest.mark.parametrize(
    "body", [{"status": "fine"}, {"status": "safe", "message": "x" * 501}, {"status": "safe", "x": 1}]
)
def test_bad_answers_are_400_and_record_nothing(api, token, body):
    assert api.post(f"/api/v1/checkins/{token}", body, format="json").status_code == 400
    assert not CheckIn.objects.exists()


def test_the_page_works_without_javascript_and_is_protected_against_forgery(token):
    browser = Client(enforce_csrf_checks=True)
    page = browser.get(f"/checkin/{token}")
    assert page.status_code == 200
    html = page.content.decode()
    assert "<script" not in html
    assert 'name="status" value="safe"' in html and 'value="need_help"' in html
    assert page["Cache-Control"] == "no-store"
    # Without the CSRF token, a cross-site form post is refused.
    assert Client(enforce_csrf_checks=True).post(f"/checkin/{token}", {"status": "safe"}).status_code == 403
    csrf = browser.cookies["csrftoken"].value
    answered = browser.post(f"/checkin/{token}", {"status": "need_help", "csrfmiddlewaretoken": csrf})
    assert answered.status_code == 200
    assert "need help" in answered.content.decode()
    assert CheckIn.objects.get().status == "need_help"


def test_the_page_keeps_its_token_from_other_sites_yet_lets_a_browser_send_its_origin(token):
    page = Client().get(f"/checkin/{token}")
    # "no-referrer" would make the browser post the answer with "Origin: null" (refused by CSRF).
    assert page["Referrer-Policy"] == "same-origin"
    assert '<meta name="referrer" content="same-origin">' in page.content.decode()


def test_the_page_speaks_the_travellers_language(token, campaign_and_traveller):
    from registrations.models import Traveller

    Traveller.objects.filter(pk=campaign_and_traveller[1].pk).update(language="fr")
    assert "Je suis en sécurité" in Client().get(f"/checkin/{token}").content.decode()


def test_a_bad_link_page_is_404(token):
    assert Client().get("/checkin/not-a-token").status_code == 404


def test_checkins_appear_in_the_crisis_counts_and_in_revealed_records(api, token, client_for, olivia, active_crisis):
    api.post(f"/api/v1/checkins/{token}", {"status": "need_help"}, format="json")
    client = client_for(olivia)
    affected = client.get(f"/api/v1/crises/{active_crisis.pk}/affected").json()
    assert affected["checkins"] == {"safe": 0, "need_help": 1, "no_response": 0}
    revealed = client.post(
        f"/api/v1/crises/{active_crisis.pk}/affected/reveal",
        {"reason": "Follow up those who need help now."},
        format="json",
    ).json()
    assert revealed["travellers"][0]["checkin"] == "need_help"


def test_tokens_carry_no_personal_data(token):
    payload = signing.loads(token, salt=messages.CHECKIN_SALT)
    assert len(payload) == 2 and all(len(part) == 36 for part in payload)


def test_a_link_cut_short_at_the_slash_gets_the_same_bad_link_page():
    from django.test import Client

    response = Client().get("/checkin/")
    assert response.status_code == 404
    assert response["Content-Type"].startswith("text/html")
    assert b"This check-in link is not valid." in response.content
