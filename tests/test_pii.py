"""PII redaction: every kind, checksum-validated, never leaking into outputs."""

import pytest

from pipeline.pii import PiiRedactor, iban_ok, jmbg_ok, luhn_ok, oib_ok


@pytest.mark.parametrize(
    "text, placeholder, secret",
    [
        ("write to ana.kovac@gmail.com please", "[EMAIL]", "ana.kovac@gmail.com"),
        ("moj broj je +385 91 234 5678", "[PHONE]", "234 5678"),
        ("zovite 091/234-5678 poslije 5", "[PHONE]", "234-5678"),
        ("tālr. 2612 3456", "[PHONE]", "2612 3456"),
        ("card 4111 1111 1111 1111 expires 09/27", "[CARD]", "4111 1111 1111 1111"),
        ("kartica 5555555555554444", "[CARD]", "5555555555554444"),
        ("IBAN HR1210010051863000160, hvala", "[IBAN]", "HR1210010051863000160"),
        ("konts LV80 BANK 0000 4351 9500 1", "[IBAN]", "LV80 BANK 0000 4351 9500 1"),
        ("OIB 69435151530", "[OIB]", "69435151530"),
        ("moj oib je 12345678903", "[OIB]", "12345678903"),
        ("JMBG 0101990710008", "[JMBG]", "0101990710008"),
        ("matični broj 0101990710008 je u ugovoru", "[JMBG]", "0101990710008"),
        ("мој ЈМБГ је 0101990710006", "[JMBG]", "0101990710006"),
        ("personas kods 120388-12345", "[PERSONAS_KODS]", "120388-12345"),
    ],
)
def test_each_kind_is_redacted(text, placeholder, secret):
    out, counts = PiiRedactor().redact(text)
    assert placeholder in out
    assert secret not in out
    assert sum(counts.values()) >= 1


@pytest.mark.parametrize(
    "text",
    [
        "order 12345678901 has shipped",  # 11 digits, not a valid OIB
        "ticket 1234567890123456",  # 16 digits failing Luhn, not grouped like a card
        "reference HR1210010051863000161",  # IBAN with a wrong check
        "narudžba 55213 od 2026-11-20",
        "it costs 14.50 EUR",
    ],
)
def test_checksums_keep_non_pii_readable(text):
    out, counts = PiiRedactor().redact(text)
    assert out == text and not counts


def test_checksum_functions_on_known_values():
    assert luhn_ok("4111111111111111") and not luhn_ok("4111111111111112")
    assert iban_ok("GB82WEST12345698765432") and not iban_ok("GB82WEST12345698765433")
    assert oib_ok("69435151530") and not oib_ok("69435151531")
    assert jmbg_ok("0101990710008") and not jmbg_ok("0101990710007")


def test_only_configured_types_are_redacted():
    out, _ = PiiRedactor(["email"]).redact("a@b.co and 4111 1111 1111 1111")
    assert out == "[EMAIL] and 4111 1111 1111 1111"
