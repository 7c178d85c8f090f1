from django.apps import AppConfig


class CmocConfig(AppConfig):
    name = "cmoc"
    default_auto_field = "django.db.models.BigAutoField"
