#!/usr/bin/env python3
"""Writes profile.pdf: a one-page PDF shaped like a short profile export, with real text.

The objects and the cross-reference table are written by hand (no PDF library), so the
file is small, deterministic and easy to read. The text uses the standard Helvetica font
with WinAnsiEncoding, which every PDF reader, and Parley's extractor, knows without an
embedded font. Run it from anywhere: python3 samples/digital-twin/make_profile_pdf.py
"""

from pathlib import Path

LINES = [
    ("Helvetica-Bold", 20, "Ada Park"),
    ("Helvetica", 12, "Staff Software Engineer at Tidewater Logistics - Lisbon, Portugal"),
    ("Helvetica-Bold", 14, "Experience"),
    ("Helvetica", 11, "Tidewater Logistics, Staff Software Engineer (2021 - present)"),
    ("Helvetica", 11, "Leads the routing platform team; moved route planning from batch jobs to streaming."),
    ("Helvetica", 11, "Harbour Analytics, Senior Engineer (2016 - 2021)"),
    ("Helvetica", 11, "Built the tide and berth forecasting service used by twelve ports."),
    ("Helvetica", 11, "Northwind Games, Engineer (2012 - 2016)"),
    ("Helvetica", 11, "Wrote the matchmaking server and its load tests."),
    ("Helvetica-Bold", 14, "Education"),
    ("Helvetica", 11, "University of Porto, MSc Computer Science (2012)"),
    ("Helvetica-Bold", 14, "Skills"),
    ("Helvetica", 11, "Rust, distributed systems, operations research, mentoring"),
    ("Helvetica-Bold", 14, "Languages"),
    ("Helvetica", 11, "Portuguese (native), English (fluent), Spanish (working)"),
]

FONTS = {"Helvetica": "F1", "Helvetica-Bold": "F2"}


def escape(text: str) -> str:
    """A PDF literal string: backslash and parentheses escaped, WinAnsi bytes."""
    return text.replace("\\", "\\\\").replace("(", "\\(").replace(")", "\\)")


def content_stream() -> bytes:
    ops = ["BT"]
    y = 760
    for font, size, text in LINES:
        # Headings get a little air above them.
        if font.endswith("Bold") and y < 760:
            y -= 10
        ops.append(f"/{FONTS[font]} {size} Tf")
        ops.append(f"1 0 0 1 56 {y} Tm")
        ops.append(f"({escape(text)}) Tj")
        y -= size + 8
    ops.append("ET")
    return "\n".join(ops).encode("cp1252")


def build() -> bytes:
    stream = content_stream()
    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 612 792] "
        b"/Resources << /Font << /F1 4 0 R /F2 5 0 R >> >> /Contents 6 0 R >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream",
        b"<< /Title (Ada Park - Profile) /Producer (make_profile_pdf.py) >>",
    ]
    # The binary comment on line two tells transfer tools that the file is binary.
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref = len(out)
    out += b"xref\n0 %d\n" % (len(objects) + 1)
    # Each entry is exactly 20 bytes, as the format requires.
    out += b"0000000000 65535 f \n"
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref
    return bytes(out)


if __name__ == "__main__":
    target = Path(__file__).resolve().parent / "profile.pdf"
    target.write_bytes(build())
    print(f"wrote {target} ({target.stat().st_size} bytes)")
