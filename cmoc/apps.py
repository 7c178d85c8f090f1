from django.apps import AppConfig
from django.db.models.signals import post_migrate


class CmocConfig(AppConfig):
    name = "cmoc"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from cmoc.search import fts_ensure

        post_migrate.connect(fts_ensure, sender=self, dispatch_uid="cmoc_fts_ensure")
