from django.apps import AppConfig


class CampaignsConfig(AppConfig):
    name = "kaoping.campaigns"
    verbose_name = "考核活动"
