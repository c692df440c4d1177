"""``kaoping evaluate PACKAGE.json --out RESULT.json``: score a JSON package, no database."""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any

from .errors import EngineError
from .package import evaluate_package, load_package


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kaoping evaluate",
        description="Score an assessment package (kaoping.package/1) and write the results.",
    )
    p.add_argument("package", help="the package JSON file (see docs/engine.md)")
    p.add_argument("--out", default="-", help="result JSON file ('-' = standard output)")
    p.add_argument("--no-explanations", action="store_true", help="leave the explanation trees out")
    p.add_argument("--indent", type=int, default=2, help="JSON indentation (default 2)")
    return p


def run(data: Any, *, explanations: bool = True) -> dict[str, Any]:
    """Validate, evaluate and serialize a parsed package."""
    ev = evaluate_package(load_package(data))
    out: dict[str, Any] = ev.result_dict(explanations=explanations)
    return out


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        with open(args.package, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as e:
        print(f"error: cannot read {args.package}: {e.strerror}", file=sys.stderr)
        return 2
    except json.JSONDecodeError as e:
        print(
            f"error: $: not valid JSON (line {e.lineno}, column {e.colno}): {e.msg}",
            file=sys.stderr,
        )
        return 2
    try:
        result = run(data, explanations=not args.no_explanations)
    except EngineError as e:
        print(f"error: {e}", file=sys.stderr)
        return 2
    text = json.dumps(result, ensure_ascii=False, indent=args.indent or None, allow_nan=False)
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        try:
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as e:
            print(f"error: cannot write {args.out}: {e.strerror}", file=sys.stderr)
            return 2
    return 0
