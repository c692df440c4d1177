"""``kaoping evaluate PACKAGE.json --out RESULT.json``: score a JSON package, no database.

Messages are in Chinese. A malformed package prints ``错误：<JSON 路径>：<说明>`` on standard
error and exits with 2, as do an unreadable file, invalid JSON and an unwritable result.
"""

from __future__ import annotations

import argparse
import errno
import json
import sys
from typing import Any

from .errors import EngineError
from .package import evaluate_package, load_package

_OS_ERRORS = {
    errno.ENOENT: "文件不存在",
    errno.EACCES: "没有访问权限",
    errno.EISDIR: "这是一个文件夹",
    errno.ENOTDIR: "路径中有一段不是文件夹",
    errno.ENOSPC: "磁盘空间不足",
    errno.EROFS: "文件系统只读",
}


def _os_reason(e: OSError) -> str:
    return _OS_ERRORS.get(e.errno or 0, e.strerror or str(e))


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(
        prog="kaoping evaluate",
        description="对考评数据包（kaoping.package/1）计分，输出结果 JSON。",
    )
    p.add_argument("package", help="数据包 JSON 文件（格式见 docs/engine.md）")
    p.add_argument("--out", default="-", help="结果 JSON 文件（'-' 表示标准输出，默认）")
    p.add_argument("--no-explanations", action="store_true", help="结果中不含得分说明树")
    p.add_argument("--indent", type=int, default=2, help="JSON 缩进空格数（默认 2）")
    return p


def run(data: Any, *, explanations: bool = True) -> dict[str, Any]:
    """Validate, evaluate and serialize a parsed package."""
    ev = evaluate_package(load_package(data))
    out: dict[str, Any] = ev.result_dict(explanations=explanations)
    return out


def _error(text: str) -> int:
    print(f"错误：{text}", file=sys.stderr)
    return 2


def main(argv: list[str] | None = None) -> int:
    try:
        args = _parser().parse_args(argv)
    except SystemExit as e:
        return int(e.code or 0)
    try:
        with open(args.package, encoding="utf-8") as fh:
            data = json.load(fh)
    except OSError as e:
        return _error(f"无法读取 {args.package}：{_os_reason(e)}")
    except UnicodeDecodeError:
        return _error(f"无法读取 {args.package}：文件不是 UTF-8 编码")
    except json.JSONDecodeError as e:
        return _error(f"$：不是有效的 JSON（第 {e.lineno} 行第 {e.colno} 列：{e.msg}）")
    try:
        result = run(data, explanations=not args.no_explanations)
    except EngineError as e:
        return _error(str(e))  # a PackageError reads "<path>：<message>"
    text = json.dumps(result, ensure_ascii=False, indent=args.indent or None, allow_nan=False)
    if args.out == "-":
        sys.stdout.write(text + "\n")
    else:
        try:
            with open(args.out, "w", encoding="utf-8") as fh:
                fh.write(text + "\n")
        except OSError as e:
            return _error(f"无法写入 {args.out}：{_os_reason(e)}")
    return 0
