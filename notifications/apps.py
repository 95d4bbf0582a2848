from django.apps import AppConfig


class NotificationsConfig(AppConfig):
    name = "notifications"
    verbose_name = "Campaigns, deliveries and check-ins"

    def ready(self) -> None:
        # crises sits below notifications and may not import it: it calls these through
        # its hooks (docs/architecture.md, "Hooks").
        from crises import hooks
        from notifications.selectors import latest_checkins
        from notifications.services.campaigns import campaigns_close_for_crisis

        hooks.on_crisis_close(campaigns_close_for_crisis)
        hooks.read_checkins_with(latest_checkins)
