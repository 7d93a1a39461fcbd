"""Language identification, including text without diacritics and both Serbian scripts."""

import pytest

from pipeline.records import Conversation, Turn
from pipeline.stages.language import LanguageIdentifier


@pytest.mark.parametrize(
    "text, expected",
    [
        ("Hi, my parcel still hasn't arrived, could you check the tracking please?", "en"),
        ("Dobar dan, račun mi je stigao dvaput, molim vas provjerite što se dogodilo.", "hr"),
        ("bok, jos uvijek cekam paket, gdje je zapelo? vec tjedan dana nista", "hr"),
        ("Здраво, картица ми је задужена два пута за исту куповину, молим вас проверите.", "sr"),
        ("cao, jos uvek cekam paket, gde je zapelo? vec nedelju dana nista bre", "sr"),
        ("Labdien, man nav interneta jau trešo dienu, lūdzu palīdziet.", "lv"),
        ("labdien, man nav interneta jau treso dienu, ludzu palidziet, paldies", "lv"),
    ],
)
def test_detects_language(text, expected):
    conv = Conversation("c", [Turn(0, "customer", text)])
    LanguageIdentifier()([conv])
    assert conv.language == expected
    assert conv.language_source == "detected"


def test_given_language_is_kept():
    conv = Conversation("c", [Turn(0, "customer", "Hello there")], language="lv")
    LanguageIdentifier()([conv])
    assert conv.language == "lv" and conv.language_source == "input"
