from django.urls import path

from api.accounts import views

urlpatterns = [
    path("auth/register", views.RegisterView.as_view(), name="auth-register"),
    path("auth/token", views.TokenView.as_view(), name="auth-token"),
    path("auth/logout", views.LogoutView.as_view(), name="auth-logout"),
    path("staff/me", views.StaffMeView.as_view(), name="staff-me"),
    path("posts", views.PostListView.as_view(), name="post-list"),
    path("posts/<uuid:post_id>", views.PostDetailView.as_view(), name="post-detail"),
]
