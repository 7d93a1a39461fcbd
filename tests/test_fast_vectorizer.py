"""The cached vectorizer must give exactly what scikit-learn's TfidfVectorizer gives."""

import json

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from pipeline.models.linear import CompactTfidfVectorizer, normalise_for_model


@pytest.mark.parametrize("analyzer, ngrams", [("char_wb", (2, 5)), ("char_wb", (4, 6)), ("word", (1, 2)), ("word", (1, 3))])
def test_same_matrix_as_sklearn(root, analyzer, ngrams):
    texts = []
    for lang in ("en", "hr", "sr", "lv"):
        for line in (root / "data" / "samples" / f"{lang}.jsonl").read_text(encoding="utf-8").splitlines():
            texts += [t["text"].lower() for t in json.loads(line)["turns"]]
    params = dict(analyzer=analyzer, ngram_range=ngrams, sublinear_tf=True, preprocessor=normalise_for_model,
                  token_pattern=r"(?u)\b\w+\b", dtype=np.float32)
    fast = CompactTfidfVectorizer(**params).fit(texts[::2])
    ref = TfidfVectorizer(**params).fit(texts[::2])
    if analyzer == "char_wb":
        fast.warm_up(sorted({w for t in texts[:20] for w in normalise_for_model(t).split()}))
        assert fast._word_cache
    for batch in (texts, texts[1::2], texts[:1]):
        a, b = fast.transform(batch), ref.transform(batch)
        assert a.shape == b.shape
        assert abs(a - b).max() < 1e-6
