"""Mail headers survive being written out and read back, however long their Vietnamese."""

from __future__ import annotations

from datetime import UTC, datetime
from email import message_from_bytes, policy

from hypothesis import given
from hypothesis import strategies as st

from registry.services.mail import _message
from registry.settings import Settings

TEXT = (
    "hồ sơ đề xuất của bạn đã được tiếp nhận vào lúc ngày theo đợt gọi trí tuệ nhân tạo "
    "Quỹ Phát triển khoa học và công nghệ Quốc gia"
)


@given(st.lists(st.sampled_from(TEXT.split(' ')), min_size=3, max_size=40).map(" ".join))
def test_a_long_vietnamese_subject_reads_back_word_for_word(subject: str) -> None:
    row = {
        "recipient": "nguoi.nhan@example.vn",
        "subject": subject,
        "created_at": datetime(2026, 11, 30, 3, 0, tzinfo=UTC),
        "body": "Nội dung",
        "links": [],
    }

    written = _message(Settings(), row).as_bytes()

    assert message_from_bytes(written, policy=policy.default)["Subject"] == subject
