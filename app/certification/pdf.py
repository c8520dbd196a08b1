"""A certificate as a one-page PDF: holder, level in Chinese and English, dates, code and a QR code.

The CJK font is embedded from the system package fonts-wqy-zenhei; without it the PDF
would show empty boxes instead of Chinese, so a missing font is an error, never a fallback.
"""
from __future__ import annotations

import io
import threading
from pathlib import Path

import qrcode
from reportlab.lib.colors import HexColor
from reportlab.lib.pagesizes import A4, landscape
from reportlab.lib.utils import ImageReader
from reportlab.pdfbase import pdfmetrics
from reportlab.pdfbase.ttfonts import TTFont
from reportlab.pdfgen import canvas

from ..settings import DEFAULT_FONT_PATH  # the CERT_FONT_PATH setting's default

FONT_PACKAGE = "fonts-wqy-zenhei"
FONT_NAME = "WenQuanYiZenHei"

_register_lock = threading.Lock()


class FontMissing(RuntimeError):
    def __init__(self, path: str) -> None:
        self.path = path
        super().__init__(f"the CJK font {path} is missing: install the Debian package {FONT_PACKAGE} "
                         f"(apt-get install {FONT_PACKAGE})")


def ensure_font(path: str = DEFAULT_FONT_PATH) -> str:
    """Register the CJK font once per process; raises FontMissing when the file is not there."""
    if not Path(path).is_file():
        raise FontMissing(path)
    with _register_lock:
        if FONT_NAME not in pdfmetrics.getRegisteredFontNames():
            pdfmetrics.registerFont(TTFont(FONT_NAME, path, subfontIndex=0))
    return FONT_NAME


def _qr_png(url: str) -> bytes:
    image = qrcode.make(url, box_size=8, border=2)
    buffer = io.BytesIO()
    image.save(buffer, format="PNG")
    return buffer.getvalue()


def certificate_pdf(*, holder_name: str, level_zh: str, level_en: str, issued_at: str, expires_at: str, code: str,
                    verify_url: str, requirement_version: int, status_note: str | None = None,
                    font_path: str = DEFAULT_FONT_PATH) -> bytes:
    """The certificate as PDF bytes; issued_at and expires_at come formatted (local dates)."""
    font = ensure_font(font_path)
    buffer = io.BytesIO()
    width, height = landscape(A4)
    pdf = canvas.Canvas(buffer, pagesize=(width, height))
    pdf.setTitle(f"坐席学院 Agent Academy — {level_zh} {level_en} — {holder_name}")
    pdf.setAuthor("坐席学院 Agent Academy")

    navy, gold, grey = HexColor("#16213a"), HexColor("#b8892b"), HexColor("#5d6677")
    pdf.setStrokeColor(navy)
    pdf.setLineWidth(6)
    pdf.rect(24, 24, width - 48, height - 48)
    pdf.setStrokeColor(gold)
    pdf.setLineWidth(1.5)
    pdf.rect(38, 38, width - 76, height - 76)

    centre = width / 2
    pdf.setFillColor(navy)
    pdf.setFont(font, 20)
    pdf.drawCentredString(centre, height - 95, "坐席学院 · Agent Academy")
    pdf.setFont(font, 34)
    pdf.drawCentredString(centre, height - 150, "资格证书")
    pdf.setFont(font, 16)
    pdf.setFillColor(grey)
    pdf.drawCentredString(centre, height - 175, "Certificate of qualification")

    pdf.setFillColor(navy)
    pdf.setFont(font, 14)
    pdf.drawCentredString(centre, height - 225, "兹证明 This certifies that")
    pdf.setFont(font, 36)
    pdf.drawCentredString(centre, height - 275, holder_name)
    pdf.setFont(font, 14)
    pdf.drawCentredString(centre, height - 312, "已达到以下等级的全部要求 has met every requirement of the level")
    pdf.setFillColor(gold)
    pdf.setFont(font, 30)
    pdf.drawCentredString(centre, height - 358, f"{level_zh}  {level_en}")

    pdf.setFillColor(navy)
    pdf.setFont(font, 12)
    left = 80
    lines = [
        f"颁发日期 Issued: {issued_at}",
        f"有效期至 Valid until: {expires_at}",
        f"要求版本 Requirement version: {requirement_version}",
        f"验证码 Verification code: {code}",
    ]
    if status_note:
        lines.append(status_note)
    y = 170
    for line in lines:
        pdf.drawString(left, y, line)
        y -= 20
    pdf.setFont(font, 9)
    pdf.setFillColor(grey)
    pdf.drawString(left, 62, f"在线验证 Verify online: {verify_url}")

    qr_size = 120
    pdf.drawImage(ImageReader(io.BytesIO(_qr_png(verify_url))), width - 80 - qr_size, 60, qr_size, qr_size)
    pdf.showPage()
    pdf.save()
    return buffer.getvalue()
