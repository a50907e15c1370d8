from django.apps import AppConfig


class WebuiConfig(AppConfig):
    name = "webui"
    verbose_name = "Pod Pattern Advisor"

    def ready(self) -> None:
        from django.db.models.signals import post_delete, post_save

        from webui import checks  # noqa: F401  (registers the system checks)
        from webui.models import CatalogueImage
        from webui.services import bump_catalogue_version

        # Every process drops its cached team catalogue when an entry changes (see services).
        for signal in (post_save, post_delete):
            signal.connect(bump_catalogue_version, sender=CatalogueImage, dispatch_uid=signal)
