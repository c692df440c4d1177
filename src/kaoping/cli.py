"""The ``kaoping`` command: Django's management commands, plus the database-free engine CLI.

``kaoping evaluate PACKAGE.json --out RESULT.json`` scores a self-contained JSON package with
the engine alone; every other word is a management command (``kaoping migrate``,
``kaoping runserver``, ``kaoping demo``, ``kaoping org import FILE.xlsx`` ...).
"""

from __future__ import annotations

import os
import sys


def main(argv: list[str] | None = None) -> int:
    args = list(sys.argv if argv is None else argv)
    if len(args) > 1 and args[1] == "evaluate":
        from kaoping.engine.cli import main as evaluate_main

        return evaluate_main(args[2:])
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "kaoping.settings")
    from django.core.management import execute_from_command_line

    args[0] = "kaoping"
    execute_from_command_line(args)
    return 0


if __name__ == "__main__":
    sys.exit(main())
