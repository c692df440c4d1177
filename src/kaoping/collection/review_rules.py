"""What a reviewer may enter for one indicator, by its rule kind, and what it is worth.

``CellRule`` reads an indicator's ``rule_kind``/``rule_params`` once and answers the questions the
grid, the service and the totals ask: which input to show, whether a value is in bounds, whether
it is a deduction (and so needs a reason), and how many points it gives. The point values follow
the engine's leaf rules (docs/engine.md) so the grid's totals read like the final result.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from django.core.exceptions import ValidationError

from kaoping.indicators.constants import DataSource, RuleKind

# Leaves that reviewers score in the grid (the others come from ballots, data or daily records).
RATED_KINDS = frozenset(
    {
        RuleKind.RATING,
        RuleKind.GRADE,
        RuleKind.DEDUCTION,
        RuleKind.BONUS,
        RuleKind.PENALTY,
        RuleKind.BASE_ADJUST,
    }
)
RATED_SOURCES = frozenset({DataSource.REVIEWER, DataSource.SELF})
OCCURRENCE_KINDS = frozenset(
    {RuleKind.DEDUCTION, RuleKind.BONUS, RuleKind.PENALTY, RuleKind.BASE_ADJUST}
)
# The engine's grades when a grade rule names none.
DEFAULT_GRADES: tuple[tuple[str, Decimal], ...] = (
    ("好", Decimal(100)),
    ("较好", Decimal(80)),
    ("一般", Decimal(60)),
    ("差", Decimal(40)),
)
TWO_PLACES = Decimal("0.01")
REASON_REQUIRED = "有扣分（低于满分、有扣分事项或低于最高等次）时必须填写扣分理由"


def _dec(value: Any) -> Decimal | None:
    if value is None or value == "":
        return None
    try:
        d = Decimal(str(value))
    except (InvalidOperation, ValueError):
        return None
    return d if d.is_finite() else None


def _fmt(value: Decimal | None) -> str:
    if value is None:
        return ""
    text = f"{value.quantize(TWO_PLACES):f}"
    return text.rstrip("0").rstrip(".") if "." in text else text


@dataclass(frozen=True)
class Item:
    code: str
    name: str
    per: Decimal


@dataclass(frozen=True)
class CellRule:
    indicator_id: int
    code: str
    name: str
    kind: str
    points: Decimal  # the indicator's full marks (its share of the total)
    max: Decimal  # the rule's own full marks (rating, deduction, base_adjust)
    grades: tuple[tuple[str, Decimal], ...] = ()
    items: tuple[Item, ...] = ()
    cap: Decimal | None = None
    base: Decimal = Decimal(0)

    # ---- what the grid shows ----------------------------------------------------------------

    @property
    def input(self) -> str:
        """``number`` (rating), ``grade`` (a select), ``count`` (one item) or ``items``."""
        if self.kind == RuleKind.RATING:
            return "number"
        if self.kind == RuleKind.GRADE:
            return "grade"
        return "count" if len(self.items) == 1 else "items"

    @property
    def labels(self) -> list[str]:
        return [label for label, _ in self.grades]

    @property
    def is_extra(self) -> bool:
        return self.kind in (RuleKind.BONUS, RuleKind.PENALTY)

    @property
    def bounds_text(self) -> str:
        if self.kind == RuleKind.RATING:
            return f"0–{_fmt(self.max)} 分"
        if self.kind == RuleKind.GRADE:
            return "、".join(self.labels)
        parts = [f"{it.name or it.code} 每次 {_fmt(it.per)} 分" for it in self.items]
        return "；".join(parts)

    def display(self, score: Any, grade: str, occurrences: dict[str, Any] | None) -> str:
        """A short text of a value (the self score in a cell, the audit summary)."""
        if self.kind == RuleKind.RATING:
            return _fmt(_dec(score))
        if self.kind == RuleKind.GRADE:
            return grade or ""
        if occurrences is None:
            return ""
        counts = [(it, int(occurrences.get(it.code) or 0)) for it in self.items]
        total = sum(n for _, n in counts)
        if self.input == "count":
            return str(total)
        return f"{total} 次" if total else "0"

    def value_for_input(self, score: Any, grade: str, occurrences: dict[str, Any] | None) -> str:
        """The text in the cell's input (the single item's count for ``count``)."""
        if self.input in ("count", "items"):
            if occurrences is None:
                return ""
            return self.display(score, grade, occurrences)
        return self.display(score, grade, occurrences)

    # ---- checking a value --------------------------------------------------------------------

    def clean(
        self, *, score: Any = None, grade: Any = None, occurrences: Any = None
    ) -> tuple[Decimal | None, str, dict[str, int] | None]:
        """The value in stored form, or ValidationError with the Chinese reason. All three
        empty means "no value" (the cell is cleared)."""
        if self.kind == RuleKind.RATING:
            if score is None or score == "":
                return None, "", None
            d = _dec(score)
            if d is None:
                raise ValidationError(f"“{score}”不是数字，请填写 0 至 {_fmt(self.max)} 之间的分数")
            if d < 0 or d > self.max:
                raise ValidationError(f"分数应在 0 至 {_fmt(self.max)} 之间")
            if d != d.quantize(TWO_PLACES):
                raise ValidationError("分数最多保留两位小数")
            return d.quantize(TWO_PLACES), "", None
        if self.kind == RuleKind.GRADE:
            label = str(grade or "").strip()
            if not label:
                return None, "", None
            if label not in self.labels:
                raise ValidationError(f"等次应为：{'、'.join(self.labels)}")
            return None, label, None
        if occurrences is None:
            return None, "", None
        if not isinstance(occurrences, dict):
            raise ValidationError("扣分事项格式不正确")
        known = {it.code: it for it in self.items}
        out: dict[str, int] = {}
        for code, raw in occurrences.items():
            if code not in known:
                raise ValidationError(f"没有编码为“{code}”的事项")
            if raw is None or raw == "":
                continue
            d = _dec(raw)
            if d is None or d < 0 or d != d.to_integral_value():
                name = known[code].name or code
                raise ValidationError(f"“{name}”的次数应为不小于 0 的整数")
            if d > 999:
                raise ValidationError(f"“{known[code].name or code}”的次数过大")
            out[code] = int(d)
        return None, "", out

    def is_deduction(
        self, score: Decimal | None, grade: str, occurrences: dict[str, int] | None
    ) -> bool:
        if self.kind == RuleKind.RATING:
            return score is not None and score < self.max
        if self.kind == RuleKind.GRADE:
            return bool(grade) and grade != self.labels[0]
        if occurrences is None or self.kind == RuleKind.BONUS:
            return False
        if self.kind == RuleKind.BASE_ADJUST:
            return any(it.per < 0 and occurrences.get(it.code, 0) > 0 for it in self.items)
        return any(n > 0 for n in occurrences.values())

    def is_filled(self, score: Any, grade: str, occurrences: dict[str, Any] | None) -> bool:
        if self.kind == RuleKind.RATING:
            return score is not None
        if self.kind == RuleKind.GRADE:
            return bool(grade)
        return occurrences is not None

    # ---- points ------------------------------------------------------------------------------

    def points_of(
        self, score: Any, grade: str, occurrences: dict[str, Any] | None
    ) -> Decimal | None:
        """The points the value gives (extra points signed for bonus/penalty)."""
        if not self.is_filled(score, grade, occurrences):
            return None
        if self.kind == RuleKind.RATING:
            return self._scaled(Decimal(score), self.max)
        if self.kind == RuleKind.GRADE:
            best = max(c for _, c in self.grades)
            coef = dict(self.grades).get(grade, Decimal(0))
            return self._scaled(coef, best)
        occ = occurrences or {}
        total = sum((it.per * int(occ.get(it.code) or 0) for it in self.items), Decimal(0))
        if self.kind == RuleKind.BASE_ADJUST:
            value = min(max(self.base + total, Decimal(0)), self.max)
            return self._scaled(value, self.max)
        capped = min(total, self.cap) if self.cap is not None else total
        if self.kind == RuleKind.DEDUCTION:
            cap = self.cap if self.cap is not None else self.max
            return self._scaled(max(self.max - min(total, cap), Decimal(0)), self.max)
        sign = Decimal(1) if self.kind == RuleKind.BONUS else Decimal(-1)
        return (sign * capped).quantize(TWO_PLACES)

    def _scaled(self, value: Decimal, full: Decimal) -> Decimal:
        if not full:
            return Decimal(0)
        return (value / full * self.points).quantize(TWO_PLACES)


def rule_for(indicator: Any) -> CellRule:
    params = indicator.rule_params or {}
    kind = indicator.rule_kind
    points = _dec(indicator.points)
    raw_max = _dec(params.get("max"))
    grades: tuple[tuple[str, Decimal], ...] = ()
    if kind == RuleKind.GRADE:
        grades = (
            tuple(
                (str(g["label"]), _dec(g.get("coefficient")) or Decimal(0))
                for g in params.get("grades") or []
                if isinstance(g, dict) and g.get("label")
            )
            or DEFAULT_GRADES
        )
    items = tuple(
        Item(str(it["code"]), str(it.get("name") or ""), _dec(it.get("per")) or Decimal(0))
        for it in params.get("items") or []
        if isinstance(it, dict) and it.get("code") not in (None, "")
    )
    full = raw_max if raw_max is not None else (points if points is not None else Decimal(100))
    return CellRule(
        indicator_id=indicator.pk,
        code=indicator.code,
        name=indicator.name,
        kind=kind,
        points=points if points is not None else full,
        max=full,
        grades=grades,
        items=items,
        cap=_dec(params.get("cap")),
        base=_dec(params.get("base")) or Decimal(0),
    )


def is_rated_leaf(indicator: Any) -> bool:
    return indicator.rule_kind in RATED_KINDS and indicator.data_source in RATED_SOURCES


def fmt(value: Decimal | None) -> str:
    return _fmt(value)
