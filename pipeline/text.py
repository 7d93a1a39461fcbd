"""Text normalisation shared by the cleaner and the models."""

from __future__ import annotations

import html
import re
import unicodedata

# Serbian Cyrillic to Latin (Gaj's alphabet), the standard one-to-one mapping.
_CYR = "абвгдђежзијклљмнњопрстћуфхцчџшАБВГДЂЕЖЗИЈКЛЉМНЊОПРСТЋУФХЦЧЏШ"
_LAT = [
    "a", "b", "v", "g", "d", "đ", "e", "ž", "z", "i", "j", "k", "l", "lj", "m", "n", "nj", "o", "p", "r",
    "s", "t", "ć", "u", "f", "h", "c", "č", "dž", "š",
    "A", "B", "V", "G", "D", "Đ", "E", "Ž", "Z", "I", "J", "K", "L", "Lj", "M", "N", "Nj", "O", "P", "R",
    "S", "T", "Ć", "U", "F", "H", "C", "Č", "Dž", "Š",
]
_CYR_TABLE = {ord(c): l for c, l in zip(_CYR, _LAT)}
_CYRILLIC_RE = re.compile(r"[\u0400-\u04FF]")

# Folding for model input: people type without diacritics, so the models should
# see the same token either way.
_FOLD_TABLE = {ord("đ"): "dj", ord("Đ"): "Dj", ord("ß"): "ss", ord("ł"): "l", ord("Ł"): "L"}


def has_cyrillic(text: str) -> bool:
    return bool(_CYRILLIC_RE.search(text))


def transliterate_cyrillic(text: str) -> str:
    return text.translate(_CYR_TABLE) if has_cyrillic(text) else text


class _FoldTable(dict):
    """str.translate table that folds each character once and remembers it."""

    def __missing__(self, code: int) -> str:
        decomposed = unicodedata.normalize("NFKD", chr(code))
        folded = "".join(c for c in decomposed if not unicodedata.combining(c)) or chr(code)
        self[code] = folded
        return folded


_FOLD = _FoldTable(_FOLD_TABLE)


def fold_diacritics(text: str) -> str:
    return text if text.isascii() else text.translate(_FOLD)


_TAG_RE = re.compile(r"<[^>]{0,300}>")
_BLOCK_TAG_RE = re.compile(r"<\s*(br|/p|/div|/li|/tr|/h\d)\s*/?\s*>", re.IGNORECASE)
_SCRIPT_RE = re.compile(r"<(script|style)[^>]*>.*?</\1\s*>", re.IGNORECASE | re.DOTALL)


def html_to_text(text: str) -> str:
    if "<" not in text and "&" not in text:
        return text
    if re.search(r"</?[a-zA-Z][^>]*>", text):
        text = _SCRIPT_RE.sub(" ", text)
        text = _BLOCK_TAG_RE.sub("\n", text)
        text = _TAG_RE.sub(" ", text)
    return html.unescape(text)


_SPACES_RE = re.compile(r"[ \t\u00a0\u2000-\u200b\u202f\u205f\u3000]+")
_NEWLINES_RE = re.compile(r"\n\s*\n+")


_UNUSUAL_SPACE_RE = re.compile(r"[\t\r\n\u00a0\u2000-\u200b\u202f\u205f\u3000]|  ")


def normalise_whitespace(text: str) -> str:
    if not _UNUSUAL_SPACE_RE.search(text):
        return text.strip()
    text = text.replace("\r\n", "\n").replace("\r", "\n")
    text = _SPACES_RE.sub(" ", text)
    text = "\n".join(line.strip() for line in text.split("\n"))
    return _NEWLINES_RE.sub("\n\n", text).strip()


# ---------------------------------------------------------------- e-mail clean-up
_QUOTE_HEADER_RE = re.compile(
    r"^\s*(on .{3,120}wrote:|am .{3,120}schrieb:|"
    r"dana .{3,120}(napisao|napisala|napisa|je napisao|je napisala)\s*:?|"
    r".{3,120}(je napisao|je napisala|написао је|написала је|написао|написала|rakstīja|rakstija)\s*:|"
    r"-{2,}\s*(original message|izvorna poruka|originalna poruka|оригинална порука|sākotnējā ziņa|forwarded message)\s*-{2,}|"
    r"(from|od|šalje|šalje:|от|no|sūtītājs):\s.+\n\s*(sent|poslano|послато|послано|nosūtīts|datum|date|sent:|gesendet):.*)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_SIGNATURE_DELIM_RE = re.compile(r"^--\s*$", re.MULTILINE)
_MOBILE_FOOTER_RE = re.compile(
    r"^\s*(sent from my \w+.*|poslano s mog \w+.*|poslato sa mog \w+.*|послато са мог \w+.*|nosūtīts no mana \w+.*|sūtīts no \w+.*)\s*$",
    re.IGNORECASE | re.MULTILINE,
)
_CLOSING_RE = re.compile(
    r"^\s*(best regards|kind regards|regards|best wishes|many thanks|warm regards|cheers|sincerely|yours sincerely|yours faithfully|br|"
    r"s poštovanjem|s postovanjem|sa poštovanjem|sa postovanjem|srdačan pozdrav|srdacan pozdrav|lijep pozdrav|lep pozdrav|pozdrav|pozdravi|lp|"
    r"с поштовањем|са поштовањем|срдачан поздрав|леп поздрав|поздрав|"
    r"ar cieņu|ar cienu|ar labiem vēlējumiem|ar labiem velejumiem|sveicieni|paldies un ar cieņu)\s*[,.!]?\s*$",
    re.IGNORECASE | re.MULTILINE,
)


def strip_email_quotes(text: str) -> str:
    """Drop quoted earlier messages: '>' lines and everything after a reply header."""
    m = _QUOTE_HEADER_RE.search(text)
    if m and m.start() > 0:
        text = text[: m.start()]
    lines = [ln for ln in text.split("\n") if not ln.lstrip().startswith(">")]
    return "\n".join(lines)


def strip_signature(text: str) -> str:
    """Drop a signature block: after '-- ', a mobile footer, or a closing line followed
    by at most six short lines (name, title, company, phone)."""
    m = _SIGNATURE_DELIM_RE.search(text)
    if m and m.start() > 0:
        text = text[: m.start()]
    text = _MOBILE_FOOTER_RE.sub("", text)
    matches = list(_CLOSING_RE.finditer(text))
    if matches:
        m = matches[-1]
        tail = [ln for ln in text[m.end():].split("\n") if ln.strip()]
        if m.start() > 0 and len(tail) <= 6 and all(len(ln) <= 80 for ln in tail):
            text = text[: m.start()]
    return text
