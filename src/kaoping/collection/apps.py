from django.apps import AppConfig


class CollectionConfig(AppConfig):
    name = "kaoping.collection"
    verbose_name = "数据采集"
