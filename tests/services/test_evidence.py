"""Evidence uploads: type by content, size limit, SHA-256, stored once, reused per unit."""

from __future__ import annotations

import hashlib

import pytest
from django.core.exceptions import PermissionDenied, ValidationError
from django.core.files.storage import default_storage

from kaoping.accounts.models import Role
from kaoping.audit.models import AuditEntry
from kaoping.collection import evidence as ev
from kaoping.collection.models import Evidence, EvidenceFile
from kaoping.collection.self_services import upload_evidence

from ..evidence_samples import (
    ELF_BYTES,
    PE_BYTES,
    docx_bytes,
    jpg_bytes,
    pdf_bytes,
    plain_zip_bytes,
    png_bytes,
    upload,
    xlsx_bytes,
)
from ..factories import UserFactory, grant


@pytest.fixture
def submitter(tree):
    user = UserFactory(username="tb_a1")
    grant(user, Role.SUBMITTER, tree["a1"])
    return user


@pytest.mark.parametrize(
    ("name", "data", "content_type"),
    [
        ("会议记录.pdf", pdf_bytes(), "application/pdf"),
        ("照片.png", png_bytes(), "image/png"),
        ("照片.jpg", jpg_bytes(), "image/jpeg"),
        ("照片.JPEG", jpg_bytes(), "image/jpeg"),
        ("记录.docx", docx_bytes(), ev.KINDS["docx"].content_type),
        ("台账.xlsx", xlsx_bytes(), ev.KINDS["xlsx"].content_type),
    ],
)
def test_accepted_types_are_detected_by_content(tree, submitter, name, data, content_type):
    # The browser's content type is deliberately wrong: only the bytes count.
    evidence = upload_evidence(
        actor=submitter, organization=tree["a1"], uploaded_file=upload(name, data, "text/plain")
    )
    stored = evidence.file
    assert stored.content_type == content_type
    assert stored.sha256 == hashlib.sha256(data).hexdigest()
    assert stored.size == len(data)
    ext = ev.KIND_BY_CONTENT_TYPE[content_type].ext
    assert stored.file.name == f"evidence/{stored.sha256[:2]}/{stored.sha256}.{ext}"
    with default_storage.open(stored.file.name, "rb") as fh:
        assert fh.read() == data
    assert evidence.name == name
    assert evidence.organization == tree["a1"]


@pytest.mark.parametrize(
    ("name", "data", "message"),
    [
        ("会议记录.pdf", ELF_BYTES, "可执行程序"),
        ("记录.docx", PE_BYTES, "可执行程序"),
        ("记录.docx", plain_zip_bytes(), "不是 Word（.docx）或 Excel（.xlsx）文档"),
        ("记录.pdf", png_bytes(), "文件扩展名为 .pdf，但内容是 PNG 图片 文件"),
        ("台账.docx", xlsx_bytes(), "内容是 Excel（.xlsx） 文件"),
        ("记录.exe", pdf_bytes(), "只能上传"),
        ("记录.txt", b"hello", "只能上传"),
        ("记录.pdf", b"hello world, not a pdf", "无法识别文件内容"),
        ("记录.pdf", b"", "文件为空"),
        ("记录.docx", b"PK\x03\x04" + b"\x00" * 40, "已损坏"),
        ("记录.docx", b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + b"\x00" * 40, "旧版"),
    ],
)
def test_rejected_uploads(tree, submitter, name, data, message):
    with pytest.raises(ValidationError) as exc:
        upload_evidence(actor=submitter, organization=tree["a1"], uploaded_file=upload(name, data))
    assert message in exc.value.messages[0]
    assert not EvidenceFile.objects.exists()
    assert not Evidence.objects.exists()


def test_encrypted_zip_member_is_refused():
    import io
    import zipfile

    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as zf:
        zf.writestr("[Content_Types].xml", "x")
    data = bytearray(buf.getvalue())
    data[6] |= 0x1  # the local header's "encrypted" flag
    cd = data.find(b"PK\x01\x02")
    data[cd + 8] |= 0x1  # and the central directory's
    with pytest.raises(ValidationError) as exc:
        ev.sniff(io.BytesIO(bytes(data)))
    assert "加密" in exc.value.messages[0]


def test_oversized_upload_is_refused(tree, submitter, settings):
    settings.KAOPING_EVIDENCE_MAX_BYTES = 1024
    data = pdf_bytes() + b"%" + b"x" * 2048
    with pytest.raises(ValidationError) as exc:
        upload_evidence(
            actor=submitter, organization=tree["a1"], uploaded_file=upload("大文件.pdf", data)
        )
    assert "大小限制" in exc.value.messages[0]
    assert "1 KB" in exc.value.messages[0]
    assert not EvidenceFile.objects.exists()


def test_oversized_stream_is_refused_without_trusting_declared_size(settings):
    settings.KAOPING_EVIDENCE_MAX_BYTES = 1024
    f = upload("大文件.pdf", pdf_bytes() + b"x" * 4096)
    f.size = 10  # a lying client: the stream is counted anyway
    with pytest.raises(ValidationError, match="大小限制"):
        ev.spool(f)


def test_default_limit_is_twenty_megabytes(settings):
    if hasattr(settings, "KAOPING_EVIDENCE_MAX_BYTES"):
        del settings.KAOPING_EVIDENCE_MAX_BYTES
    assert ev.max_bytes() == 20 * 1024 * 1024


def test_same_bytes_twice_are_stored_once(tree, submitter):
    data = pdf_bytes("same")
    first = upload_evidence(
        actor=submitter, organization=tree["a1"], uploaded_file=upload("一.pdf", data)
    )
    second = upload_evidence(
        actor=submitter, organization=tree["a1"], uploaded_file=upload("二.pdf", data)
    )
    assert first.pk == second.pk
    assert second.reused is True
    assert EvidenceFile.objects.count() == 1
    assert Evidence.objects.count() == 1
    entries = AuditEntry.objects.filter(action="evidence.upload")
    assert entries.count() == 2
    assert entries.first().data["reused"] is True


def test_same_bytes_in_two_units_share_one_file(tree, submitter, organizer):
    data = png_bytes()
    mine = upload_evidence(
        actor=submitter, organization=tree["a1"], uploaded_file=upload("照片.png", data)
    )
    theirs = upload_evidence(
        actor=organizer, organization=tree["b1"], uploaded_file=upload("图.png", data)
    )
    assert mine.pk != theirs.pk
    assert mine.file_id == theirs.file_id
    assert EvidenceFile.objects.count() == 1
    assert Evidence.objects.count() == 2


def test_left_over_bytes_are_reused_not_duplicated(tree, submitter):
    data = pdf_bytes("orphan")
    sha = hashlib.sha256(data).hexdigest()
    from django.core.files.base import ContentFile

    default_storage.save(ev.storage_name(sha, "pdf"), ContentFile(data))
    evidence = upload_evidence(
        actor=submitter, organization=tree["a1"], uploaded_file=upload("a.pdf", data)
    )
    assert evidence.file.file.name == ev.storage_name(sha, "pdf")
    _, files = default_storage.listdir(f"evidence/{sha[:2]}")
    assert files == [f"{sha}.pdf"]


def test_upload_for_another_unit_is_refused(tree, submitter):
    with pytest.raises(PermissionDenied):
        upload_evidence(
            actor=submitter, organization=tree["a2"], uploaded_file=upload("a.pdf", pdf_bytes())
        )


def test_file_name_is_cleaned():
    assert ev.clean_name("C:\\Users\\张\\会议\x00记录.pdf") == "会议记录.pdf"
    assert ev.clean_name("../../etc/passwd.pdf") == "passwd.pdf"
    long = "长" * 300 + ".pdf"
    assert len(ev.clean_name(long)) == 200
    assert ev.clean_name(long).endswith(".pdf")
