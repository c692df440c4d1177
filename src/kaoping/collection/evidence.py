"""Evidence files (佐证材料): checked by content, hashed, stored once.

An upload is streamed to a temporary file while its SHA-256 is computed; its type is decided
from its first bytes (and, for Word/Excel, from the parts inside the ZIP), never from the name
or the browser's content type; the extension must agree with what the content is. The bytes are
stored once under ``evidence/<sha[:2]>/<sha>.<ext>`` however many times and by however many
units they are uploaded; each unit holds its own ``Evidence`` row pointing at them, reusable in
any campaign (最多报一次).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import tempfile
import zipfile
from dataclasses import dataclass
from typing import IO, Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files import File
from django.core.files.storage import default_storage
from django.db import IntegrityError, transaction

from .models import Evidence, EvidenceFile

DEFAULT_MAX_BYTES = 20 * 1024 * 1024
CHUNK = 64 * 1024
# Bounds on what a Word/Excel ZIP may claim to hold (a "zip bomb" is refused, not opened).
MAX_ZIP_MEMBERS = 5000
MAX_ZIP_UNCOMPRESSED = 300 * 1024 * 1024
MAX_CONTENT_TYPES_BYTES = 1024 * 1024


@dataclass(frozen=True)
class FileKind:
    ext: str  # the stored extension
    label: str  # as users know it
    content_type: str
    inline: bool  # shown in the browser (PDF, images) or downloaded (Word, Excel)


KINDS: dict[str, FileKind] = {
    "pdf": FileKind("pdf", "PDF", "application/pdf", True),
    "png": FileKind("png", "PNG 图片", "image/png", True),
    "jpg": FileKind("jpg", "JPG 图片", "image/jpeg", True),
    "docx": FileKind(
        "docx",
        "Word（.docx）",
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document",
        False,
    ),
    "xlsx": FileKind(
        "xlsx",
        "Excel（.xlsx）",
        "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
        False,
    ),
}
KIND_BY_CONTENT_TYPE = {k.content_type: k for k in KINDS.values()}
EXTENSIONS = {
    ".pdf": "pdf",
    ".png": "png",
    ".jpg": "jpg",
    ".jpeg": "jpg",
    ".docx": "docx",
    ".xlsx": "xlsx",
}
ACCEPT = ",".join(EXTENSIONS)  # for <input type="file" accept=...>
ALLOWED_TEXT = "PDF、Word（.docx）、Excel（.xlsx）、JPG、PNG"

# The main part of each Office document type, as [Content_Types].xml names it. Macro-enabled
# (.docm/.xlsm) and template variants have other content types and are refused.
OFFICE_MAIN = {
    "docx": (
        "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml",
        "word/",
    ),
    "xlsx": ("application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml", "xl/"),
}

MSG_EMPTY = "文件为空，请重新选择"
MSG_TYPE = f"只能上传 {ALLOWED_TEXT} 文件"
MSG_EXECUTABLE = "文件内容是可执行程序，不能作为佐证材料上传"
MSG_UNKNOWN = f"无法识别文件内容，只接受 {ALLOWED_TEXT} 文件"
MSG_ZIP = "该压缩文件不是 Word（.docx）或 Excel（.xlsx）文档，不能上传"
MSG_ENCRYPTED = "文件已加密，请去除密码后再上传"
MSG_CORRUPT = "文件已损坏，无法打开，请检查后重新上传"
MSG_LEGACY = "旧版 Word/Excel 文件（.doc/.xls）请先另存为 .docx/.xlsx 后上传"


def max_bytes() -> int:
    return int(getattr(settings, "KAOPING_EVIDENCE_MAX_BYTES", DEFAULT_MAX_BYTES))


def human_size(n: int) -> str:
    if n >= 1024 * 1024:
        return f"{n / (1024 * 1024):.3g} MB"
    if n >= 1024:
        return f"{n / 1024:.3g} KB"
    return f"{n} 字节"


def too_large_message(limit: int | None = None) -> str:
    return f"文件超过 {human_size(limit or max_bytes())} 的大小限制，请压缩或拆分后上传"


def clean_name(name: str) -> str:
    """The file's own name (no directories, no control characters), at most 200 characters."""
    base = os.path.basename((name or "").replace("\\", "/"))
    base = re.sub(r"[\x00-\x1f\x7f]", "", base).strip() or "未命名文件"
    if len(base) > 200:
        stem, ext = os.path.splitext(base)
        base = stem[: 200 - len(ext)] + ext
    return base


def kind_from_name(name: str) -> str | None:
    return EXTENSIONS.get(os.path.splitext(name or "")[1].lower())


# ---- content sniffing ----------------------------------------------------------------------


def _office_kind(fh: IO[bytes]) -> str:
    """``docx`` or ``xlsx`` for a well-formed, unencrypted Office ZIP; else ValidationError."""
    try:
        with zipfile.ZipFile(fh) as zf:
            infos = zf.infolist()
            if len(infos) > MAX_ZIP_MEMBERS:
                raise ValidationError(MSG_ZIP)
            if sum(i.file_size for i in infos) > MAX_ZIP_UNCOMPRESSED:
                raise ValidationError(MSG_ZIP)
            if any(i.flag_bits & 0x1 for i in infos):
                raise ValidationError(MSG_ENCRYPTED)
            names = {i.filename for i in infos}
            if "[Content_Types].xml" not in names:
                raise ValidationError(MSG_ZIP)
            ct_info = zf.getinfo("[Content_Types].xml")
            if ct_info.file_size > MAX_CONTENT_TYPES_BYTES:
                raise ValidationError(MSG_ZIP)
            content_types = zf.read(ct_info).decode("utf-8", errors="replace")
            for kind, (main_type, folder) in OFFICE_MAIN.items():
                if main_type in content_types and any(n.startswith(folder) for n in names):
                    # Every member must decompress with a correct CRC (a corrupt file is
                    # refused here rather than failing when a reviewer opens it).
                    if zf.testzip() is not None:
                        raise ValidationError(MSG_CORRUPT)
                    return kind
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, OSError, KeyError) as exc:
        raise ValidationError(MSG_CORRUPT) from exc
    except (RuntimeError, NotImplementedError) as exc:  # encrypted or unsupported compression
        raise ValidationError(MSG_ENCRYPTED if "encrypt" in str(exc) else MSG_CORRUPT) from exc
    raise ValidationError(MSG_ZIP)


def sniff(fh: IO[bytes]) -> str:
    """The kind (a ``KINDS`` key) of the file's content; ValidationError (Chinese) if it is none
    of the accepted kinds. Reads from the start of ``fh`` (a seekable binary file)."""
    fh.seek(0)
    head = fh.read(16)
    fh.seek(0)
    if not head:
        raise ValidationError(MSG_EMPTY)
    if (
        head.startswith(b"\x7fELF")
        or head.startswith(b"MZ")
        or head[:4]
        in (
            b"\xca\xfe\xba\xbe",
            b"\xfe\xed\xfa\xce",
            b"\xfe\xed\xfa\xcf",
            b"\xce\xfa\xed\xfe",
            b"\xcf\xfa\xed\xfe",
        )
    ):
        raise ValidationError(MSG_EXECUTABLE)
    if head.startswith(b"#!"):
        raise ValidationError(MSG_EXECUTABLE)
    if head.startswith(b"%PDF-"):
        return "pdf"
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return "png"
    if head.startswith(b"\xff\xd8\xff"):
        return "jpg"
    if head.startswith(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"):
        # OLE2: legacy .doc/.xls, or a password-protected .docx/.xlsx.
        raise ValidationError(MSG_LEGACY + "；如文件设有密码，请先去除密码")
    if head.startswith(b"PK\x03\x04"):
        try:
            return _office_kind(fh)
        finally:
            fh.seek(0)
    if head.startswith((b"PK\x05\x06", b"PK\x07\x08", b"Rar!", b"7z\xbc\xaf", b"\x1f\x8b")):
        raise ValidationError(MSG_ZIP)
    raise ValidationError(MSG_UNKNOWN)


# ---- storing -------------------------------------------------------------------------------


@dataclass
class Spooled:
    """An upload copied to a temporary file: its size, SHA-256 and detected kind."""

    path: str
    size: int
    sha256: str
    kind: FileKind
    name: str


def spool(uploaded_file: Any, *, limit: int | None = None) -> Spooled:
    """Stream ``uploaded_file`` to a temporary file while hashing it, check its size and type.
    The caller removes ``Spooled.path`` (see ``store``)."""
    limit = limit or max_bytes()
    name = clean_name(getattr(uploaded_file, "name", "") or "")
    by_name = kind_from_name(name)
    if by_name is None:
        raise ValidationError(MSG_TYPE)
    declared = getattr(uploaded_file, "size", None)
    if declared is not None and declared > limit:
        raise ValidationError(too_large_message(limit))
    digest = hashlib.sha256()
    size = 0
    fd, path = tempfile.mkstemp(
        prefix="kp-evidence-", dir=getattr(settings, "FILE_UPLOAD_TEMP_DIR", None)
    )
    try:
        with os.fdopen(fd, "wb") as out:
            chunks = uploaded_file.chunks(CHUNK) if hasattr(uploaded_file, "chunks") else None
            if chunks is None:
                chunks = iter(lambda: uploaded_file.read(CHUNK), b"")
            for chunk in chunks:
                size += len(chunk)
                if size > limit:
                    raise ValidationError(too_large_message(limit))
                digest.update(chunk)
                out.write(chunk)
        if size == 0:
            raise ValidationError(MSG_EMPTY)
        with open(path, "rb") as fh:
            detected = sniff(fh)
        if detected != by_name:
            ext = os.path.splitext(name)[1].lower()
            raise ValidationError(
                f"文件扩展名为 {ext}，但内容是 {KINDS[detected].label} 文件，请检查后重新上传"
            )
    except BaseException:
        _remove(path)
        raise
    return Spooled(path=path, size=size, sha256=digest.hexdigest(), kind=KINDS[detected], name=name)


def _remove(path: str) -> None:
    with contextlib.suppress(FileNotFoundError):
        os.unlink(path)


def storage_name(sha256: str, ext: str) -> str:
    return f"evidence/{sha256[:2]}/{sha256}.{ext}"


def _hash_stored(name: str) -> str | None:
    try:
        with default_storage.open(name, "rb") as fh:
            digest = hashlib.sha256()
            for chunk in iter(lambda: fh.read(CHUNK), b""):
                digest.update(chunk)
            return digest.hexdigest()
    except OSError:
        return None


def _store_bytes(spooled: Spooled) -> EvidenceFile:
    """The EvidenceFile for these bytes: the existing row, or a new one with the bytes written
    once. Safe against two uploads of the same bytes at the same time."""
    existing = EvidenceFile.objects.filter(sha256=spooled.sha256).first()
    if existing is not None:
        return existing
    wanted = storage_name(spooled.sha256, spooled.kind.ext)
    written = None
    if default_storage.exists(wanted) and _hash_stored(wanted) == spooled.sha256:
        name = wanted  # left by an upload whose transaction rolled back: same bytes, keep them
    else:
        if default_storage.exists(wanted):
            default_storage.delete(wanted)  # a partial write: replace it
        with open(spooled.path, "rb") as fh:
            name = written = default_storage.save(wanted, File(fh))
    try:
        with transaction.atomic():
            stored, created = EvidenceFile.objects.get_or_create(
                sha256=spooled.sha256,
                defaults={
                    "file": name,
                    "size": spooled.size,
                    "content_type": spooled.kind.content_type,
                },
            )
    except IntegrityError:
        stored, created = EvidenceFile.objects.get(sha256=spooled.sha256), False
    if not created and written and written != stored.file.name:
        default_storage.delete(written)  # another upload of the same bytes won the race
    return stored


def store(*, organization: Any, uploaded_file: Any, actor: Any = None) -> tuple[Evidence, bool]:
    """The organization's ``Evidence`` for an upload, and whether it is new. The same bytes
    uploaded again by the same unit give back its existing evidence (nothing stored twice)."""
    spooled = spool(uploaded_file)
    try:
        stored = _store_bytes(spooled)
    finally:
        _remove(spooled.path)
    try:
        with transaction.atomic():
            evidence, created = Evidence.objects.get_or_create(
                organization=organization,
                file=stored,
                defaults={
                    "name": spooled.name,
                    "uploaded_by": actor if getattr(actor, "pk", None) else None,
                },
            )
    except IntegrityError:
        evidence, created = Evidence.objects.get(organization=organization, file=stored), False
    return evidence, created


def kind_of(evidence_file: EvidenceFile) -> FileKind | None:
    return KIND_BY_CONTENT_TYPE.get(evidence_file.content_type)
