"""The cleaning stage on hand-written transcripts in the four languages."""

from pipeline.records import Conversation, Turn
from pipeline.stages.clean import TranscriptCleaner


def _clean(texts, channel="chat", speaker="customer"):
    conv = Conversation("c", [Turn(i, speaker, t) for i, t in enumerate(texts)], channel=channel)
    TranscriptCleaner()([conv])
    return conv


def test_mojibake_and_nfc_are_repaired():
    broken = "Ä\x8cekam veÄ\x87 tri dana"  # "Čekam već tri dana" decoded as Latin-1
    conv = _clean([broken, "Cˇ"])
    assert conv.turns[0].text == "Čekam već tri dana"
    decomposed = "C\u030cekam"  # C + combining caron
    assert _clean([decomposed]).turns[0].text == "\u010cekam"


def test_html_becomes_text():
    conv = _clean(["<p>Hello&nbsp;there,</p><p>my <b>order</b> &amp; invoice</p>"], channel="email")
    assert conv.turns[0].text.replace("\n", " ").split() == ["Hello", "there,", "my", "order", "&", "invoice"]


def test_email_quotes_and_signature_are_removed():
    email = (
        "Poštovani,\n\nračun za listopad je i dalje pogrešan.\n\nS poštovanjem,\nIvana Horvat\nvoditeljica nabave\n\n"
        "Dana 3. 11. 2026. u 10:14 Podrška <podrska@tel.hr> je napisao:\n> Poštovana, ispravili smo račun.\n> Lijep pozdrav"
    )
    text = _clean([email], channel="email").turns[0].text
    assert "pogrešan" in text
    assert "ispravili" not in text and "voditeljica" not in text and "Dana 3." not in text


def test_english_reply_header_and_latvian_signature():
    en = "Still waiting for my refund.\n\nOn Mon, 3 Nov 2026 at 10:14, Help <help@shop.com> wrote:\n> We have issued it."
    assert _clean([en], channel="email").turns[0].text == "Still waiting for my refund."
    lv = "Labdien!\nLūdzu atjaunojiet piegādi.\n\nAr cieņu,\nAnna Bērziņa\nSIA Koks"
    assert _clean([lv], channel="email").turns[0].text == "Labdien!\nLūdzu atjaunojiet piegādi."


def test_whitespace_empty_turns_and_counts():
    conv = _clean(["  hello \t  there  ", "   ", "", "ok\r\n\r\n\r\nthanks"])
    assert [t.text for t in conv.turns] == ["hello there", "ok\n\nthanks"]
    assert [t.index for t in conv.turns] == [0, 3]  # indices stay those of the input
    assert conv.empty_turns_dropped == 2


def test_cyrillic_kept_for_output_and_transliterated_for_models():
    conv = _clean(["Здраво, картица ми је задужена два пута."])
    assert conv.turns[0].text == "Здраво, картица ми је задужена два пута."
    assert conv.turns[0].model_text == "Zdravo, kartica mi je zadužena dva puta."


def test_pii_is_redacted_and_counted():
    conv = _clean(["mail: pero@example.hr, IBAN HR1210010051863000160"])
    assert conv.turns[0].text == "mail: [EMAIL], IBAN [IBAN]"
    assert conv.pii_redacted == {"email": 1, "iban": 1}
