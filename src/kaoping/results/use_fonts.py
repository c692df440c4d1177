"""The Chinese font of the result-use PDFs.

reportlab embeds TrueType outlines only, and the machine's Noto Sans CJK (fonts-noto-cjk, a .ttc
collection) has PostScript (CFF) outlines. So for each document the glyphs it uses are subset
with fontTools and converted to TrueType quadratic outlines (``_truetype_subset``); the result is
registered with reportlab and embedded as a subset. Without the font file, reportlab's built-in
CID font STSong-Light is used (not embedded: the reader supplies it) and a warning is logged.
"""

from __future__ import annotations

import hashlib
import io
import logging
import os
import threading
from collections import OrderedDict
from typing import Any

logger = logging.getLogger(__name__)

# ---- PDF: the font ---------------------------------------------------------------------------

#: (file, the face to use in a collection: its PostScript name), first found wins
CJK_FONTS = [
    ("/usr/share/fonts/opentype/noto/NotoSansCJK-Regular.ttc", "NotoSansCJKsc-Regular"),
    ("/usr/share/fonts/opentype/noto/NotoSerifCJK-Regular.ttc", "NotoSerifCJKsc-Regular"),
]
FALLBACK_FONT = "STSong-Light"
#: characters every document may print besides its own text (footer, punctuation, digits)
BASE_CHARS = (
    "".join(chr(c) for c in range(0x20, 0x7F)) + "第页共生成日期时间：，。；、（）《》“”—·…／％"
)
_font_lock = threading.Lock()
_fonts: OrderedDict[str, str] = OrderedDict()  # charset hash -> registered font name
MAX_REGISTERED = 16
MAX_CACHED_GLYPHS = 20000


def _ttc_index(path: str, psname: str) -> int:
    from fontTools.ttLib import TTCollection

    coll = TTCollection(path, lazy=True)
    try:
        for i, font in enumerate(coll.fonts):
            if font["name"].getDebugName(6) == psname:
                return i
    finally:
        coll.close()
    return 0


class _Source:
    """One CJK font opened once per process: its character map, metrics, and the TrueType
    glyphs converted so far (outlines are read through the font's glyph set, CFF or TrueType,
    and redrawn with quadratic curves). Used under ``_font_lock``."""

    def __init__(self, path: str, psname: str) -> None:
        from fontTools.ttLib import TTFont

        index = _ttc_index(path, psname) if path.endswith(".ttc") else -1
        font = TTFont(path, fontNumber=index, lazy=True) if index >= 0 else TTFont(path, lazy=True)
        self.font = font
        self.psname = psname
        self.cmap = font.getBestCmap()
        self.glyph_set = font.getGlyphSet()
        self.hmtx = font["hmtx"].metrics
        self.cubic = "CFF " in font
        self.glyphs: dict[str, Any] = {}

    def glyph(self, name: str) -> Any:
        g = self.glyphs.get(name)
        if g is None:
            if len(self.glyphs) >= MAX_CACHED_GLYPHS:
                self.glyphs.clear()
            from fontTools.pens.cu2quPen import Cu2QuPen
            from fontTools.pens.ttGlyphPen import TTGlyphPen

            pen = TTGlyphPen(None)
            self.glyph_set[name].draw(
                Cu2QuPen(pen, 1.0, reverse_direction=True) if self.cubic else pen
            )
            g = pen.glyph()
            g.recalcBounds(None)
            self.glyphs[name] = g
        return g

    def subset(self, text: str, tag: str) -> io.BytesIO:
        """A new TrueType font holding .notdef and the glyphs of ``text``, its PostScript name
        suffixed with ``tag``: reportlab keeps the first face registered under a name, so
        every subset needs its own."""
        from fontTools.fontBuilder import FontBuilder

        wanted = {ord(ch): self.cmap[ord(ch)] for ch in set(text) if ord(ch) in self.cmap}
        order = [".notdef", *sorted(set(wanted.values()) - {".notdef"})]
        glyphs = {name: self.glyph(name) for name in order}
        metrics = {
            name: (self.hmtx[name][0], g.xMin if g.numberOfContours else 0)
            for name, g in glyphs.items()
        }
        f = self.font
        head, hhea, os2, names = f["head"], f["hhea"], f["OS/2"], f["name"]
        fb = FontBuilder(head.unitsPerEm, isTTF=True)
        fb.setupGlyphOrder(order)
        fb.setupCharacterMap(wanted)
        fb.setupGlyf(glyphs)
        fb.setupHorizontalMetrics(metrics)
        fb.setupHorizontalHeader(ascent=hhea.ascent, descent=hhea.descent)
        fb.setupNameTable(
            {
                "familyName": names.getDebugName(1) or self.psname,
                "styleName": names.getDebugName(2) or "Regular",
                "psName": f"{self.psname}-{tag}",
            }
        )
        fb.setupOS2(
            sTypoAscender=os2.sTypoAscender, sTypoDescender=os2.sTypoDescender,
            usWinAscent=os2.usWinAscent, usWinDescent=os2.usWinDescent, fsType=0,
        )  # fmt: skip
        fb.setupPost()
        buf = io.BytesIO()
        fb.save(buf)
        buf.seek(0)
        return buf


_sources: dict[str, _Source] = {}


def _truetype_subset(path: str, psname: str, text: str, tag: str = "KP") -> io.BytesIO:
    """The glyphs of ``text`` from the font at ``path`` as a TrueType font reportlab embeds."""
    src = _sources.get(path)
    if src is None:
        src = _sources[path] = _Source(path, psname)
    return src.subset(text, tag)


def cjk_font(text: str) -> str:
    """A registered reportlab font name that prints every character of ``text``: the embedded
    subset of the first CJK font found, else the built-in (not embedded) STSong-Light."""
    from reportlab.pdfbase import pdfmetrics
    from reportlab.pdfbase.cidfonts import UnicodeCIDFont
    from reportlab.pdfbase.ttfonts import TTFont

    chars = "".join(sorted(set(text + BASE_CHARS)))
    key = hashlib.sha256(chars.encode()).hexdigest()[:16]
    with _font_lock:
        if key in _fonts:
            _fonts.move_to_end(key)
            return _fonts[key]
        for path, psname in CJK_FONTS:
            if not os.path.exists(path):
                continue
            try:
                data = _truetype_subset(path, psname, chars, key[:8])
            except Exception:  # a damaged or unexpected font file: try the next, then fall back
                logger.exception("could not subset the CJK font %s", path)
                continue
            name = f"KaopingCJK-{key}"
            pdfmetrics.registerFont(TTFont(name, data))
            _fonts[key] = name
            while len(_fonts) > MAX_REGISTERED:  # forget old subsets (each holds its glyphs)
                _, old = _fonts.popitem(last=False)
                gone = pdfmetrics._fonts.pop(old, None)
                if gone is not None:
                    pdfmetrics._typefaces.pop(gone.face.name, None)
            return name
        logger.warning(
            "no CJK font file found (%s): PDFs use reportlab's built-in CID font %s, which is "
            "not embedded", ", ".join(p for p, _ in CJK_FONTS), FALLBACK_FONT,
        )  # fmt: skip
        if FALLBACK_FONT not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(UnicodeCIDFont(FALLBACK_FONT))
        return FALLBACK_FONT
