from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.models import Post, User
from api.serializers import StrictCharField, StrictInputSerializer


class CredentialsInput(StrictInputSerializer):
    """A login: any email and password; wrong ones are a 401, whatever they look like."""

    email = StrictCharField(max_length=254, trim_whitespace=True)
    password = StrictCharField(max_length=256, trim_whitespace=False)


@extend_schema_field({"type": "string", "format": "email"})
class EmailAddressField(StrictCharField):
    """Checked by the sign-up service (Django's validator, after the one normal form: docs/privacy.md)."""


@extend_schema_field(
    {
        "type": "string",
        "pattern": "^(?![0-9]+$)[^\\u0000]*$",
        "description": "At least 10 characters, not only digits; a password among the 20,000 most common, or too "
        "like the email, is also refused (a 400 naming `password`).",
    }
)
class NewPasswordField(StrictCharField):
    """Checked by Django's password validators in the sign-up service."""


class SignUpInput(CredentialsInput):
    email = EmailAddressField(max_length=254, trim_whitespace=True)
    password = NewPasswordField(min_length=10, max_length=256, trim_whitespace=False)


class TokenOutput(serializers.Serializer):
    token = serializers.CharField()
    expires_at = serializers.DateTimeField()


class AccountOutput(serializers.Serializer):
    id = serializers.UUIDField()
    email = serializers.CharField()
    role = serializers.CharField()


class PostOutput(serializers.ModelSerializer):
    class Meta:
        model = Post
        fields = ["id", "name", "countries"]


class StaffOutput(serializers.ModelSerializer):
    post = PostOutput(allow_null=True)

    class Meta:
        model = User
        fields = ["id", "email", "role", "post"]
