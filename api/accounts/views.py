from __future__ import annotations

import uuid

from drf_spectacular.utils import extend_schema
from rest_framework import generics, status
from rest_framework.exceptions import NotAuthenticated, NotFound
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from accounts import selectors, services
from accounts.models import AccessToken
from accounts.throttling import client_address
from api import examples
from api.accounts.serializers import AccountOutput, CredentialsInput, PostOutput, SignUpInput, StaffOutput, TokenOutput
from api.permissions import IsStaff, Public, account_of
from api.schema import errors


class RegisterView(APIView):
    """Public sign-up for citizens. Staff accounts are made with `manage.py create_staff`."""

    permission_classes = [Public]
    authentication_classes: list = []

    @extend_schema(
        request=SignUpInput,
        examples=examples.SIGN_UP,
        responses={
            201: AccountOutput,
            **errors(
                {
                    409: "`email_unavailable`: an account with this email already exists.",
                    429: "`throttled`: too many sign-ups from this address; `Retry-After` says when to try again.",
                }
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = SignUpInput(data=request.data)
        data.is_valid(raise_exception=True)
        user = services.citizen_register(**data.validated_data, client_address=client_address(request))
        return Response(AccountOutput(user).data, status=status.HTTP_201_CREATED)


class TokenView(APIView):
    permission_classes = [Public]
    authentication_classes: list = []

    @extend_schema(
        request=CredentialsInput,
        examples=examples.LOG_IN,
        responses={
            200: TokenOutput,
            **errors(
                {
                    401: "`invalid_credentials`: the email or the password is wrong (which one is not said).",
                    429: "`throttled`: too many failed logins on this account or from this address; `Retry-After` "
                    "says when to try again.",
                }
            ),
        },
    )
    def post(self, request: Request) -> Response:
        data = CredentialsInput(data=request.data)
        data.is_valid(raise_exception=True)
        issued = services.login(**data.validated_data, client_address=client_address(request))
        return Response(TokenOutput(issued).data)


class LogoutView(APIView):
    @extend_schema(request=None, responses={204: None})
    def post(self, request: Request) -> Response:
        token = request.auth
        if not isinstance(token, AccessToken):  # authenticated by a bearer token, which is one
            raise NotAuthenticated()
        services.token_revoke(token=token)
        return Response(status=status.HTTP_204_NO_CONTENT)


class StaffMeView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=StaffOutput)
    def get(self, request: Request) -> Response:
        return Response(StaffOutput(account_of(request)).data)


class PostListView(generics.ListAPIView):
    permission_classes = [IsStaff]
    serializer_class = PostOutput

    def get_queryset(self):
        return selectors.posts_visible_to(user=account_of(self.request))


class PostDetailView(APIView):
    permission_classes = [IsStaff]

    @extend_schema(responses=PostOutput)
    def get(self, request: Request, post_id: uuid.UUID) -> Response:
        post = selectors.post_for(user=account_of(request), post_id=post_id)
        if post is None:
            raise NotFound()
        return Response(PostOutput(post).data)
