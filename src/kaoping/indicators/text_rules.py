"""Reading the free text of a 考核评分细则: names, points, dimensions, methods, evidence, rules.

Everything here is pure text work (no database), shared by the Excel import and its tests:

- ``split_name("一、政治建设（15分）")`` -> ``("政治建设", Decimal("15"))``
- ``dimension_of("党风廉政建设")`` -> ``"anti_corruption"``
- ``parse_methods("查阅台账、个别访谈")`` -> ``["documents", "interview"]``
- ``parse_evidence("会议记录2份；学习计划")`` -> ``[{"what": "会议记录", "count": 2, ...}, ...]``
- ``propose_rule("每缺一项扣1分，扣完为止", Decimal(5))`` -> a deduction rule to confirm.
"""

from __future__ import annotations

import re
import unicodedata
from decimal import Decimal, InvalidOperation
from typing import Any

from .constants import Dimension, Method

# ---- names and points ----------------------------------------------------------------------

CN_NUM = "一二三四五六七八九十"
NUMBERING = re.compile(
    r"^\s*(?:"
    r"[一二三四五六七八九十百]+\s*[、.．]"  # 一、
    r"|[（(]\s*[一二三四五六七八九十百]+\s*[)）]\s*[、.．]?"  # （一）
    r"|\d{1,3}\s*(?:[、．]|\.(?!\d))"  # 1、 1. (not 1.1)
    r"|[（(]\s*\d{1,3}\s*[)）]\s*[、.．]?"  # (1)
    r"|[①-⑳]"
    r")\s*"
)
POINTS_SUFFIX = re.compile(r"\s*[（(]\s*(\d+(?:\.\d+)?)\s*分\s*[)）]\s*$")


def nfkc(text: str) -> str:
    """Full-width digits and letters as ASCII (``１５`` -> ``15``); Chinese punctuation kept."""
    out = []
    for ch in text:
        if "０" <= ch <= "９" or "Ａ" <= ch <= "ｚ" or ch == "．":
            out.append(unicodedata.normalize("NFKC", ch))
        else:
            out.append(ch)
    return "".join(out)


def strip_numbering(name: str) -> str:
    """``一、政治建设`` / ``（一）`` / ``1.`` / ``1、`` / ``(1)`` removed (one prefix only)."""
    return NUMBERING.sub("", name, count=1).strip()


def split_name(raw: str) -> tuple[str, Decimal | None]:
    """The indicator name without numbering and without a ``（15分）`` suffix, and those points."""
    name = nfkc(str(raw)).strip()
    name = strip_numbering(name)
    m = POINTS_SUFFIX.search(name)
    points = None
    if m:
        points = Decimal(m.group(1))
        name = name[: m.start()].strip()
    return name, points


def numbering(level: int, index: int) -> str:
    """The prefix the export writes (and ``strip_numbering`` removes): 一、 （一） 1. (1)."""
    if level == 1:
        return f"{cn_number(index)}、"
    if level == 2:
        return f"（{cn_number(index)}）"
    if level == 3:
        return f"{index}."
    return f"({index})"


def cn_number(n: int) -> str:
    if n <= 10:
        return CN_NUM[n - 1]
    if n < 20:
        return "十" + CN_NUM[n - 11]
    tens, ones = divmod(n, 10)
    return CN_NUM[tens - 1] + "十" + (CN_NUM[ones - 1] if ones else "")


def parse_number(value: Any) -> Decimal | None:
    """A points cell: 5, 5.0, "5", "5分", "５分", "2.5 分"; None when blank; ValueError if bad."""
    if value is None or value == "":
        return None
    if isinstance(value, bool):
        raise ValueError
    if isinstance(value, int | float):
        return Decimal(str(value))
    s = nfkc(str(value)).strip().replace(" ", "")
    s = re.sub(r"分$", "", s)
    if not s:
        return None
    try:
        d = Decimal(s)
    except InvalidOperation as exc:
        raise ValueError from exc
    if not d.is_finite():
        raise ValueError
    return d


def parse_weight(value: Any) -> Decimal | None:
    """A weight cell: 0.2, "20%", 20 (read as percent when above 1)."""
    if value is None or value == "":
        return None
    s = nfkc(str(value)).strip().replace(" ", "")
    percent = s.endswith("%") or s.endswith("％")
    d = parse_number(s.rstrip("%％"))
    if d is None:
        return None
    return d / 100 if percent or d > 1 else d


# ---- dimensions ----------------------------------------------------------------------------

DIMENSION_WORDS: tuple[tuple[str, str], ...] = (
    ("政治建设", Dimension.POLITICAL),
    ("思想建设", Dimension.IDEOLOGICAL),
    ("理论学习", Dimension.IDEOLOGICAL),
    ("组织建设", Dimension.ORGANIZATIONAL),
    ("基层组织", Dimension.ORGANIZATIONAL),
    ("作风建设", Dimension.CONDUCT),
    ("纪律建设", Dimension.DISCIPLINE),
    ("制度建设", Dimension.INSTITUTIONAL),
    ("反腐败", Dimension.ANTI_CORRUPTION),
    ("党风廉政", Dimension.ANTI_CORRUPTION),
    ("廉政", Dimension.ANTI_CORRUPTION),
    ("融合", Dimension.INTEGRATION),
    ("中心工作", Dimension.INTEGRATION),
    ("业务", Dimension.INTEGRATION),
    ("政治", Dimension.POLITICAL),
    ("思想", Dimension.IDEOLOGICAL),
    ("组织", Dimension.ORGANIZATIONAL),
    ("作风", Dimension.CONDUCT),
    ("纪律", Dimension.DISCIPLINE),
    ("制度", Dimension.INSTITUTIONAL),
)
DIMENSION_LABELS = {str(label): str(value) for value, label in Dimension.choices if value}


def dimension_of(name: str) -> str:
    """The dimension a 1st-level name stands for, or "" (``党风廉政建设`` -> anti_corruption)."""
    for word, dim in DIMENSION_WORDS:
        if word in name:
            return str(dim)
    return ""


# ---- methods -------------------------------------------------------------------------------

METHOD_WORDS: tuple[tuple[str, str], ...] = (
    ("查阅资料", Method.DOCUMENTS),
    ("查阅台账", Method.DOCUMENTS),
    ("查看资料", Method.DOCUMENTS),
    ("查看台账", Method.DOCUMENTS),
    ("调阅", Method.DOCUMENTS),
    ("查阅", Method.DOCUMENTS),
    ("实地查看", Method.SITE_VISIT),
    ("实地", Method.SITE_VISIT),
    ("现场", Method.SITE_VISIT),
    ("个别访谈", Method.INTERVIEW),
    ("访谈", Method.INTERVIEW),
    ("谈话", Method.INTERVIEW),
    ("座谈", Method.INTERVIEW),
    ("民主测评", Method.APPRAISAL),
    ("民主评议", Method.APPRAISAL),
    ("测评", Method.APPRAISAL),
    ("问卷", Method.SURVEY),
    ("数据比对", Method.DATA_CHECK),
    ("系统数据", Method.DATA_CHECK),
    ("比对", Method.DATA_CHECK),
    ("统计数据", Method.DATA_CHECK),
    ("述职", Method.DEBRIEFING),
)
_METHOD_RE = re.compile("|".join(re.escape(w) for w, _ in METHOD_WORDS))
_METHOD_OF = {w: str(m) for w, m in METHOD_WORDS}
METHOD_LABELS = {str(value): str(label) for value, label in Method.choices}


def parse_methods(text: str) -> list[str]:
    """Method values named anywhere in ``text``, in order of appearance, each once."""
    out: list[str] = []
    for m in _METHOD_RE.finditer(text or ""):
        value = _METHOD_OF[m.group(0)]
        if value not in out:
            out.append(value)
    return out


def format_methods(methods: list[str]) -> str:
    return "、".join(METHOD_LABELS.get(m, m) for m in methods)


# ---- evidence ------------------------------------------------------------------------------

EVIDENCE_SPLIT = re.compile(r"[；;、\n\r]+")
COUNT_SUFFIX = re.compile(r"\s*(\d+)\s*(?:份|次|篇|个|张|本|项|册|件|套|期)$")
OPTIONAL_SUFFIX = re.compile(r"\s*[（(]\s*(?:可选|选报|如有|选填)\s*[)）]$")


def parse_evidence(text: str) -> list[dict[str, Any]]:
    """``会议记录2份；学习计划（可选）`` -> [{what, count, optional}, ...]."""
    items = []
    for part in EVIDENCE_SPLIT.split(nfkc(text or "")):
        what = part.strip().strip("，,。 ")
        if not what:
            continue
        optional = False
        m = OPTIONAL_SUFFIX.search(what)
        if m:
            optional, what = True, what[: m.start()].strip()
        count = 1
        m = COUNT_SUFFIX.search(what)
        if m and m.start() > 0:
            count, what = int(m.group(1)), what[: m.start()].strip()
        if what:
            items.append({"what": what, "count": count, "optional": optional})
    return items


def format_evidence(items: list[dict[str, Any]]) -> str:
    parts = []
    for it in items:
        what = str(it.get("what", ""))
        count = int(it.get("count") or 1)
        text = what
        if count != 1 or COUNT_SUFFIX.search(what) or OPTIONAL_SUFFIX.search(what):
            text += f"{count}份"
        if it.get("optional"):
            text += "（可选）"
        parts.append(text)
    return "；".join(parts)


# ---- rule proposals ------------------------------------------------------------------------

SENTENCE_SPLIT = re.compile(r"(?<=[。；;！!\n])")
NUM = r"(\d+(?:\.\d+)?|[一二两三四五六七八九十]|半)"
CN_DIGITS = {"一": 1, "二": 2, "两": 2, "三": 3, "四": 4, "五": 5, "六": 6, "七": 7, "八": 8,
             "九": 9, "十": 10, "半": 0.5}  # fmt: skip
DEDUCT = re.compile(rf"扣(?:除)?\s*{NUM}\s*分")
ADD = re.compile(rf"加\s*{NUM}\s*分")
CAP = re.compile(
    rf"(?:最多|最高|封顶|累计不超过|不超过|上限为?|以)\s*(?:加|扣)?\s*{NUM}\s*分(?:为限|封顶)?"
)
VETO = re.compile(r"一票否决")
CEILING = re.compile(
    r"(?:不得|不能|不予|取消)(?:评为|评定为|定为|参评|评选)?\s*“?(优秀|好|较好|先进)"
)
CEILING_AT = re.compile(r"(?:最高|只能|一律)(?:评为|评定为|定为|为)\s*“?(较好|一般|差)")
GRADE_SCALES: tuple[tuple[str, ...], ...] = (
    ("好", "较好", "一般", "差"),
    ("优秀", "良好", "一般", "较差"),
    ("优秀", "称职", "基本称职", "不称职"),
    ("满意", "基本满意", "不满意"),
)
CEILING_BELOW = {"优秀": "较好", "好": "较好", "先进": "较好", "较好": "一般"}


def _num(text: str) -> float:
    v = CN_DIGITS.get(text)
    return float(v) if v is not None else float(text)


def _clean_float(x: float | Decimal) -> float | int:
    f = float(x)
    return int(f) if f.is_integer() else f


def _sentences(text: str) -> list[str]:
    return [s.strip() for s in SENTENCE_SPLIT.split(text or "") if s.strip()]


def _grade_scale(text: str) -> tuple[str, ...] | None:
    for scale in GRADE_SCALES:
        pattern = r"\s*[、/／，,]\s*".join(re.escape(x) for x in scale)
        if re.search(pattern, text):
            return scale
    return None


def _clause_name(clause: str, match_start: int) -> str:
    name = clause[:match_start]
    name = re.split(r"[，,：:]", name)[-1] if re.search(r"[，,：:]", name.rstrip("，,")) else name
    return name.strip(" ，,、。；;的")[:60] or clause.strip()[:60]


def propose_rule(criteria: str, points: Decimal | None, name: str = "") -> dict[str, Any]:
    """A rule read from the criteria text, to be confirmed by the organizer.

    ``{"kind": ..., <engine rule params>, "sentence": <the sentences it was read from>}``; a veto
    proposal carries ``"veto": {"effect": ..., "grade"?: ...}`` for ``Indicator.veto``. Without
    a recognizable pattern: a rating rule with max = points.
    """
    text = nfkc(criteria or "")
    sentences = _sentences(text)
    full = _clean_float(points) if points is not None and points > 0 else None

    veto_sents = [s for s in sentences if VETO.search(s)] or (
        [name] if "一票否决" in (name or "") else []
    )
    if veto_sents:
        veto: dict[str, Any] = {"effect": "zero"}
        joined = "".join(sentences) or name
        m = CEILING_AT.search(joined)
        if m:
            veto = {"effect": "ceiling", "grade": m.group(1)}
        else:
            m = CEILING.search(joined)
            if m:
                veto = {"effect": "ceiling", "grade": CEILING_BELOW[m.group(1)]}
        return {"kind": "veto", "veto": veto, "sentence": "".join(veto_sents)}

    bonus_items, bonus_sents, cap = [], [], None
    deduct_items, deduct_sents = [], []
    for s in sentences:
        m_cap = CAP.search(s)
        if m_cap:
            cap = _num(m_cap.group(1))
        for clause in re.split(r"(?<=[，,])", s):
            cap_span = CAP.search(clause)
            for m in ADD.finditer(clause):
                if cap_span and cap_span.start() <= m.start() < cap_span.end():
                    continue
                bonus_items.append((_clause_name(clause, m.start()), _num(m.group(1))))
                if s not in bonus_sents:
                    bonus_sents.append(s)
            for m in DEDUCT.finditer(clause):
                if cap_span and cap_span.start() <= m.start() < cap_span.end():
                    continue
                deduct_items.append((_clause_name(clause, m.start()), _num(m.group(1))))
                if s not in deduct_sents:
                    deduct_sents.append(s)
        if ("扣完为止" in s or "扣完" in s) and s not in deduct_sents:
            deduct_sents.append(s)
    is_bonus = bool(bonus_items) and (not deduct_items or "加分" in (name or ""))
    if is_bonus:
        items = [
            {"code": f"b{i}", "name": n, "per": _clean_float(per)}
            for i, (n, per) in enumerate(bonus_items, start=1)
        ]
        limit = cap if cap is not None else (full if full is not None else items[0]["per"])
        return {
            "kind": "bonus",
            "items": items,
            "cap": _clean_float(limit),
            "sentence": "".join(bonus_sents),
        }
    if deduct_items:
        items = [
            {"code": f"d{i}", "name": n, "per": _clean_float(per)}
            for i, (n, per) in enumerate(deduct_items, start=1)
        ]
        rule: dict[str, Any] = {"kind": "deduction", "items": items}
        if full is not None:
            rule["max"] = full
        if cap is not None and (full is None or cap < full):
            rule["cap"] = _clean_float(cap)
        rule["sentence"] = "".join(deduct_sents)
        return rule
    scale = _grade_scale(text)
    if scale:
        n = len(scale)
        coefficients = [100 - 20 * i for i in range(n)] if n == 4 else [100, 60, 0][:n]
        sentence = next((s for s in sentences if scale[0] in s and scale[-1] in s), "")
        return {
            "kind": "grade",
            "grades": [
                {"label": lab, "coefficient": c} for lab, c in zip(scale, coefficients, strict=True)
            ],
            "sentence": sentence,
        }
    return {"kind": "rating", "max": full if full is not None else 100, "sentence": ""}


# ---- rater-group weights -------------------------------------------------------------------


def format_rater_weights(weights: dict[str, Any], labels: dict[str, str]) -> str:
    """``{"party_committee": 0.4, "members": 0.6}`` -> ``机关党委 40%；党员 60%``."""
    parts = []
    for group, w in weights.items():
        pct = format(round(float(w) * 100, 6), "f").rstrip("0").rstrip(".")
        parts.append(f"{labels.get(group, group)} {pct}%")
    return "；".join(parts)


def parse_rater_weights(text: str, codes: dict[str, str]) -> tuple[dict[str, Any], list[str]]:
    """The weights by group code, and the parts that could not be read."""
    out: dict[str, Any] = {}
    bad: list[str] = []
    for part in re.split(r"[；;，,、\n]+", text or ""):
        part = part.strip()
        if not part:
            continue
        label = next(
            (lab for lab in sorted(codes, key=len, reverse=True) if part.startswith(lab)), None
        )
        try:
            if label is None:
                raise ValueError
            w = parse_weight(part[len(label) :].strip(" :：="))
            if w is None:
                raise ValueError
        except ValueError:
            bad.append(part)
            continue
        f = float(w)
        out[codes[label]] = int(f) if f.is_integer() else f
    return out, bad
