from rest_framework import serializers

from accounts.models import Post, User
from api.serializers import StrictCharField, StrictInputSerializer


class CredentialsInput(StrictInputSerializer):
    email = StrictCharField(max_length=254, trim_whitespace=True)
    password = StrictCharField(max_length=256, trim_whitespace=False)


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
