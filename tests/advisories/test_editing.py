"""Country advisories are edited by the posts covering the country (admins: any), audited."""

from __future__ import annotations

from advisories.models import CountryAdvisory
from consular.models import AuditEntry
from tests.advisories.test_lookups import ADVISORY


def test_an_officer_sets_the_advisory_of_a_country_of_the_post_and_it_is_audited(client_for, olivia):
    response = client_for(olivia).put("/api/v1/advisories/countries/fj", ADVISORY, format="json")
    assert response.status_code == 200 and response.json()["level"] == 2
    client_for(olivia).put("/api/v1/advisories/countries/FJ", {**ADVISORY, "level": 3}, format="json")
    entries = AuditEntry.objects.filter(action="advisory.update").order_by("id")
    assert [(e.details["old_level"], e.details["new_level"]) for e in entries] == [(None, 2), (2, 3)]


def test_another_posts_country_is_a_403_and_writes_nothing(client_for, olivia):
    assert client_for(olivia).put("/api/v1/advisories/countries/PE", ADVISORY, format="json").status_code == 403
    assert not CountryAdvisory.objects.exists()


def test_an_admin_sets_any_country(client_for, ada):
    assert client_for(ada).put("/api/v1/advisories/countries/PE", ADVISORY, format="json").status_code == 200


def test_analysts_and_citizens_cannot_edit(client_for, ann, alice):
    assert client_for(ann).put("/api/v1/advisories/countries/FJ", ADVISORY, format="json").status_code == 403
    assert client_for(alice).put("/api/v1/advisories/countries/FJ", ADVISORY, format="json").status_code == 403
    assert not CountryAdvisory.objects.exists()


def test_an_unknown_country_is_a_404(client_for, ada):
    assert client_for(ada).get("/api/v1/advisories/countries/XX").status_code == 404
    assert client_for(ada).put("/api/v1/advisories/countries/XX", ADVISORY, format="json").status_code == 404


def test_the_list_says_which_countries_the_caller_may_edit(client_for, olivia):
    listed = {row["country"]: row for row in client_for(olivia).get("/api/v1/advisories/countries").json()}
    assert listed["FJ"]["may_edit"] and not listed["PE"]["may_edit"] and listed["FJ"]["level"] is None


def test_a_bad_advisory_is_a_400_and_writes_nothing(client_for, olivia):
    for body in ({**ADVISORY, "level": 5}, {**ADVISORY, "level": "2"}, {**ADVISORY, "texts": {}},
                 {**ADVISORY, "texts": {"en": {"title": "x"}}}, {**ADVISORY, "surprise": 1}):  # fmt: skip
        assert client_for(olivia).put("/api/v1/advisories/countries/FJ", body, format="json").status_code == 400
    assert not CountryAdvisory.objects.exists()
