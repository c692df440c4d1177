"""URLs of the results app (use part: 结果运用); merged into ``results.urls``.

Names: ``use`` (overview), ``use_awards``, ``use_accountability``, ``use_cadres``, ``use_cadre``
(one file), and the exports ``use_{awards,accountability,cadres}_{xlsx,pdf}`` and
``use_cadre_pdf``; every one takes the campaign's pk (and ``use_cadre*`` the target's)."""

from django.urls import URLPattern, path

from . import use_views

P = "campaigns/<int:pk>/use/"

urlpatterns: list[URLPattern] = [
    path(P, use_views.overview, name="use"),
    path(f"{P}awards/", use_views.awards, name="use_awards"),
    path(f"{P}accountability/", use_views.accountability, name="use_accountability"),
    path(f"{P}cadres/", use_views.cadres, name="use_cadres"),
    path(f"{P}cadres/<int:target_id>/", use_views.cadre, name="use_cadre"),
    *[
        path(
            f"{P}{kind}.{fmt}",
            use_views.export,
            {"kind": kind, "fmt": fmt},
            name=f"use_{kind}_{fmt}",
        )
        for kind in ("awards", "accountability", "cadres")
        for fmt in ("xlsx", "pdf")
    ],  # fmt: skip
    path(
        f"{P}cadres/<int:target_id>.pdf",
        use_views.export,
        {"kind": "cadre", "fmt": "pdf"},
        name="use_cadre_pdf",
    ),  # fmt: skip
]
