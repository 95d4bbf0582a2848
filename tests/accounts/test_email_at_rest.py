from django.db import connection

from accounts.models import User
from tests.factories import UserFactory


def test_the_login_email_is_not_stored_in_clear():
    UserFactory.create(email="distinctive.person@example.test")
    with connection.cursor() as cursor:
        cursor.execute("SELECT row_to_json(u)::text FROM accounts_user u")
        rows = " ".join(row[0] for row in cursor.fetchall())
    assert "distinctive" not in rows.lower()


def test_the_email_decrypts_for_the_service():
    user = UserFactory.create(email="Readable@Example.test")
    assert User.objects.get(pk=user.pk).email == "readable@example.test"
