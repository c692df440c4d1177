from __future__ import annotations

from pypinyin import Style, lazy_pinyin


def initials(text: str) -> str:
    """Lower-case pinyin initials: 张三丰 → zsf; other characters kept as they are."""
    letters = lazy_pinyin(text or "", style=Style.FIRST_LETTER, errors="default")
    return "".join(letters).lower().replace(" ", "")[:50]
