from django.apps import AppConfig
from django.db.models.signals import pre_save


class SynthesisConfig(AppConfig):
    name = "synthesis"
    default_auto_field = "django.db.models.BigAutoField"

    def ready(self):
        from synthesis.field_lengths import refuse_too_long

        pre_save.connect(refuse_too_long, dispatch_uid="retroduce-field-lengths")
