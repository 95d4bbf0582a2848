from django.apps import AppConfig


class ConsularConfig(AppConfig):
    name = "consular"
    verbose_name = "Consular core"

    def ready(self) -> None:
        from django_q.signals import post_spawn, pre_execute

        from consular import checks  # noqa: F401 - registers the deploy checks
        from consular.tasks import note_worker_activity, note_worker_started

        pre_execute.connect(note_worker_activity, dispatch_uid="consular.worker_activity")
        post_spawn.connect(note_worker_started, dispatch_uid="consular.worker_started")
