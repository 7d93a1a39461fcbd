"""A linear text classifier over word and character n-grams."""

from __future__ import annotations

import hashlib
import re
from itertools import chain

import numpy as np
import scipy.sparse as sp
from sklearn.calibration import CalibratedClassifierCV
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import FeatureUnion

_DIGITS = re.compile(r"\d")


def normalise_for_model(text: str) -> str:
    # Stages already fold case and diacritics; digits vary without meaning.
    return _DIGITS.sub("0", text)


class CompactTfidfVectorizer(TfidfVectorizer):
    """TfidfVectorizer that saves its vocabulary as one string array.

    skops would otherwise write one node per vocabulary entry, which makes model
    files large and slow to load; ``stop_words_`` (the pruned terms) is only
    needed for introspection and is dropped.
    """

    def __getstate__(self):
        state = dict(super().__getstate__())
        state.pop("stop_words_", None)
        state.pop("_word_cache", None)
        vocab = state.pop("vocabulary_", None)
        if vocab is not None:
            state["terms_"] = np.array(sorted(vocab, key=vocab.get), dtype=str)
        return state

    def __setstate__(self, state):
        state = dict(state)
        terms = state.pop("terms_", None)
        super().__setstate__(state)
        if terms is not None:
            self.vocabulary_ = {t: i for i, t in enumerate(terms.tolist())}

    # Character n-grams inside word boundaries depend only on the word, and words
    # repeat (Zipf), so each word's n-gram counts are computed once and cached as
    # a sparse row; a batch is then (documents x words) @ (words x n-grams), one
    # sparse product in C. The result equals
    # TfidfVectorizer.transform exactly (a test checks it) at a fraction of the
    # cost, which is what makes nightly runs fit their window.
    _CACHE_LIMIT = 200_000

    def _word_row(self, word: str) -> np.ndarray:
        """Vocabulary ids of the word's n-grams, repeated as often as they occur
        (the sparse product below sums repeats)."""
        vocab = self.vocabulary_
        min_n, max_n = self.ngram_range
        w = " " + word + " "
        w_len = len(w)
        # Like scikit-learn: a padded word shorter than min_n is one n-gram itself.
        ids = [vocab.get(w)] if w_len < min_n else []
        for n in range(min_n, min(max_n, w_len) + 1):
            ids.extend(map(vocab.get, [w[k : k + n] for k in range(w_len - n + 1)]))
        return np.array([i for i in ids if i is not None], dtype=np.int32)

    def warm_up(self, words: list[str]) -> None:
        """Cache the n-grams of ``words`` now (e.g. in a parent process before it
        forks its workers) rather than during the first batches of a run."""
        cache = self.__dict__.setdefault("_word_cache", {})
        for word in words[: self._CACHE_LIMIT - len(cache)]:
            if word not in cache:
                cache[word] = self._word_row(word)

    def _char_counts(self, docs: list[str]) -> sp.csr_matrix:
        cache = self.__dict__.setdefault("_word_cache", {})
        if len(cache) > self._CACHE_LIMIT:
            cache.clear()
        split = [doc.split() for doc in docs]
        words = list(chain.from_iterable(split))
        index = {w: i for i, w in enumerate(dict.fromkeys(words))}
        rows = []
        for word in index:
            row = cache.get(word)
            if row is None:
                row = cache[word] = self._word_row(word)
            rows.append(row)
        lengths = np.fromiter(map(len, rows), dtype=np.int64, count=len(rows))
        cols = np.concatenate(rows) if rows else np.zeros(0, np.int32)
        W = sp.csr_matrix(
            (np.ones(len(cols), dtype=self.dtype), cols, np.concatenate(([0], np.cumsum(lengths)))),
            shape=(len(rows), len(self.vocabulary_)),
        )
        D = sp.coo_matrix(
            (np.ones(len(words), dtype=self.dtype),
             (np.repeat(np.arange(len(docs), dtype=np.int32), np.fromiter(map(len, split), dtype=np.int64, count=len(docs))),
              np.fromiter(map(index.__getitem__, words), dtype=np.int32, count=len(words)))),
            shape=(len(docs), len(rows)),
        ).tocsr()
        # A product of CSR matrices has no repeated entries, only unsorted ones,
        # which neither TF-IDF nor the classifiers care about.
        return D @ W

    def _word_counts(self, docs: list[str]) -> sp.csr_matrix:
        vocab = self.vocabulary_
        pattern = re.compile(self.token_pattern)
        min_n, max_n = self.ngram_range
        cols: list[int] = []
        indptr = [0]
        for doc in docs:
            cols.extend([i for i in map(vocab.get, _word_grams(doc, pattern, min_n, max_n)) if i is not None])
            indptr.append(len(cols))
        X = sp.csr_matrix(
            (np.ones(len(cols), dtype=self.dtype), np.asarray(cols, dtype=np.int32), np.asarray(indptr, dtype=np.int64)),
            shape=(len(docs), len(vocab)),
        )
        X.sum_duplicates()
        return X

    def transform(self, raw_documents):
        fast = self.analyzer in ("char_wb", "word") and self.tokenizer is None and self.stop_words is None
        if not fast or not hasattr(self, "vocabulary_"):
            return super().transform(raw_documents)
        preprocess = self.preprocessor or (lambda x: x)
        docs = [preprocess(doc) for doc in raw_documents]
        X = self._word_counts(docs) if self.analyzer == "word" else self._char_counts(docs)
        return self._tfidf.transform(X, copy=False)


_LAST_FEATURES: dict[str, tuple[tuple[str, ...], sp.csr_matrix]] = {}


def _features_fingerprint(features: FeatureUnion) -> str:
    """Identity of a fitted feature extractor: parameters, vocabulary and idf."""
    h = hashlib.sha256()
    for name, vectorizer in features.transformer_list:
        params = {k: v for k, v in vectorizer.get_params().items() if k != "dtype"}
        h.update(f"{name}|{sorted(params.items(), key=lambda kv: kv[0])!r}|{vectorizer.dtype}".encode())
        vocab = vectorizer.vocabulary_
        h.update("\x00".join(sorted(vocab, key=vocab.get)).encode())
        h.update(np.ascontiguousarray(vectorizer.idf_).tobytes())
    return h.hexdigest()


def _word_grams(doc: str, pattern: re.Pattern, min_n: int, max_n: int) -> list[str]:
    tokens = pattern.findall(doc)
    grams = list(tokens) if min_n == 1 else []
    for n in range(max(min_n, 2), max_n + 1):
        if n == 2:
            grams.extend(map(" ".join, zip(tokens, tokens[1:])))
        else:
            grams.extend(" ".join(tokens[k : k + n]) for k in range(len(tokens) - n + 1))
    return grams


def labels_at_thresholds(proba: np.ndarray, labels: list[str], thresholds: dict[str, float]) -> list[list[str]]:
    """Per row of multilabel probabilities, the labels at or above their
    threshold (0.5 where none is given)."""
    th = np.array([thresholds.get(l, 0.5) for l in labels])
    return [[l for l, hit in zip(labels, row >= th) if hit] for row in proba]


class LinearTextModel:
    """Word (1-2) and character (2-5) TF-IDF features with one calibrated logistic
    regression per label.

    ``kind="multiclass"``: rows of ``predict_proba`` sum to one over ``labels_``.
    ``kind="multilabel"``: one independent probability per label.

    ``nb_C`` (multilabel only): each label also gets a logistic regression on
    features scaled by their naive-Bayes log-count ratio for that label (Wang &
    Manning's NBSVM), and the two calibrated probabilities are averaged. The two
    views err on different labels (the scaled one is better at formulaic labels
    such as thanks and empathy, the plain one at explanation and alternatives).
    The scaling is folded into the second model's weights, so scoring stays one
    sparse product.
    """

    def __init__(
        self,
        kind: str = "multilabel",
        C: float = 4.0,
        word_ngrams: tuple[int, int] = (1, 2),
        char_ngrams: tuple[int, int] | None = (2, 5),
        max_features: int = 40_000,
        min_df: int = 2,
        calibration: str | None = "sigmoid",
        calibration_cv: int = 3,
        class_weight: str | None = None,
        nb_C: float | None = None,
        random_state: int = 0,
    ):
        self.kind = kind
        self.C = C
        self.word_ngrams = word_ngrams
        self.char_ngrams = char_ngrams
        self.max_features = max_features
        self.min_df = min_df
        self.calibration = calibration
        self.calibration_cv = calibration_cv
        self.class_weight = class_weight
        self.nb_C = nb_C
        self.random_state = random_state

    # ---------------------------------------------------------------- fitting
    def _features(self, n_docs: int) -> FeatureUnion:
        min_df = self.min_df if n_docs >= 50 else 1
        parts = [
                ("word", CompactTfidfVectorizer(analyzer="word", ngram_range=tuple(self.word_ngrams), min_df=min_df,
                                         sublinear_tf=True, preprocessor=normalise_for_model, token_pattern=r"(?u)\b\w+\b",
                                         max_features=self.max_features, dtype=np.float32)),
        ]
        if self.char_ngrams:
            parts.append(("char", CompactTfidfVectorizer(analyzer="char_wb", ngram_range=tuple(self.char_ngrams), min_df=min_df,
                                                         sublinear_tf=True, preprocessor=normalise_for_model,
                                                         max_features=self.max_features, dtype=np.float32)))
        return FeatureUnion(parts)

    def _estimator(self, y: np.ndarray, C: float | None = None):
        binary = self.kind == "multilabel"
        lr = LogisticRegression(C=self.C if C is None else C, max_iter=3000, solver="liblinear" if binary else "lbfgs",
                                class_weight=self.class_weight, random_state=self.random_state)
        rarest = int(np.bincount(y).min()) if len(y) else 0
        if self.calibration and rarest >= 2 * self.calibration_cv:
            return CalibratedClassifierCV(lr, method=self.calibration, cv=self.calibration_cv, ensemble=False)
        return lr

    def fit(self, texts: list[str], y, labels: list[str] | None = None, sample_weight=None,
            vocabulary_mask=None) -> "LinearTextModel":
        """``y``: a label per text (multiclass) or a collection of labels per text (multilabel).
        ``sample_weight``: per-text weights for the regressions.
        ``vocabulary_mask``: which texts the vocabulary and idf are learned from
        (default: all); the others still train the regressions with the words
        that vocabulary has."""
        texts = list(texts)
        fit_params = {} if sample_weight is None else {"sample_weight": np.asarray(sample_weight, dtype=float)}
        self.__dict__.pop("_stack", None)  # weights stacked for an earlier fit
        self.__dict__.pop("nb_estimators_", None)
        self.__dict__.pop("_features_key", None)
        if self.kind == "multiclass":
            self.labels_ = list(labels) if labels else sorted(set(y))
            index = {l: i for i, l in enumerate(self.labels_)}
            yi = np.array([index[v] for v in y])
            Y = None
        else:
            self.labels_ = list(labels) if labels else sorted({l for row in y for l in row})
            Y = np.array([[1 if l in set(row) else 0 for l in self.labels_] for row in y], dtype=np.int8)
        if vocabulary_mask is None:
            self.features_ = self._features(len(texts))
            X = self.features_.fit_transform(texts)
        else:
            vocab_texts = [t for t, keep in zip(texts, vocabulary_mask) if keep]
            self.features_ = self._features(len(vocab_texts))
            self.features_.fit(vocab_texts)
            X = self.features_.transform(texts)
        self.estimators_ = []
        if self.kind == "multiclass":
            present = sorted(set(yi.tolist()))
            self.present_ = present
            if len(present) == 1:
                self.estimators_.append(None)
            else:
                # Re-index to the classes present so the estimator sees 0..k-1.
                remap = {c: i for i, c in enumerate(present)}
                self.estimators_.append(self._estimator(np.array([remap[v] for v in yi])).fit(X, np.array([remap[v] for v in yi]), **fit_params))
        else:
            self.prior_ = Y.mean(axis=0).astype(float) if len(Y) else np.zeros(len(self.labels_))
            for j in range(len(self.labels_)):
                col = Y[:, j]
                if col.min() == col.max():
                    self.estimators_.append(None)  # constant label: predict its prior
                else:
                    self.estimators_.append(self._estimator(col).fit(X, col, **fit_params))
            if self.nb_C:
                self.nb_estimators_ = self._fit_nb(X, Y, fit_params)
        self.thresholds_ = {l: 0.5 for l in self.labels_} if self.kind == "multilabel" else {}
        return self

    def _fit_nb(self, X, Y: np.ndarray, fit_params: dict) -> list:
        """Per label, a logistic regression on NB-scaled features whose weights are
        then multiplied by the scaling, so it scores unscaled features."""
        present = X.copy()
        present.data[:] = 1.0
        estimators = []
        for j in range(Y.shape[1]):
            col = Y[:, j]
            if col.min() == col.max():
                estimators.append(None)
                continue
            # Add-one smoothed share of each feature among positive vs negative examples.
            pos = np.asarray(present[col == 1].sum(axis=0)).ravel() + 1.0
            neg = np.asarray(present[col == 0].sum(axis=0)).ravel() + 1.0
            ratio = np.log(pos / pos.sum()) - np.log(neg / neg.sum())
            est = self._estimator(col, C=self.nb_C).fit(X @ sp.diags(ratio), col, **fit_params)
            lr = est.calibrated_classifiers_[0].estimator if isinstance(est, CalibratedClassifierCV) else est
            lr.coef_ = lr.coef_ * ratio
            estimators.append(est)
        return estimators

    # ---------------------------------------------------------------- scoring
    def predict_proba(self, texts: list[str]) -> np.ndarray:
        texts = list(texts)
        out = np.zeros((len(texts), len(self.labels_)), dtype=float)
        if not texts:
            return out
        X = self._transform(texts)
        if self.kind == "multiclass":
            est = self.estimators_[0]
            if est is None:
                out[:, self.present_[0]] = 1.0
            else:
                out[:, self.present_] = est.predict_proba(X)
            temperature = self.__dict__.get("temperature_", 1.0)
            if temperature != 1.0:
                # Temperature scaling (set at training time from out-of-fold
                # probabilities): argmax unchanged, confidences sharpened or softened.
                out = out ** (1.0 / temperature)
                out /= out.sum(axis=1, keepdims=True)
            return out
        weights, bias, slope, offset, constant = self._stacked()
        # One sparse product for all labels (and both members) instead of one per label.
        scores = np.asarray(X @ weights) + bias
        proba = 1.0 / (1.0 + np.exp(slope * scores + offset))
        n = len(self.labels_)
        out[:] = proba[:, :n] if proba.shape[1] == n else (proba[:, :n] + proba[:, n:]) / 2.0
        for j, value in constant.items():
            out[:, j] = value
        return out

    def warm_up(self) -> None:
        """Fill the character n-gram caches with the training vocabulary's words."""
        parts = dict(self.features_.transformer_list)
        word = parts.get("word")
        words = [t for t in word.vocabulary_ if " " not in t] if word is not None else []
        for vectorizer in parts.values():
            if vectorizer.analyzer == "char_wb" and hasattr(vectorizer, "warm_up"):
                vectorizer.warm_up(words)

    def _transform(self, texts: list[str]):
        """Features of ``texts``, shared with any model whose feature extractor is
        the same. Models fitted on the same texts with the same parameters learn
        the same vocabulary and weights (sentiment and frustration read the same
        customer turns; category and resolution the same conversations), so the
        second of them reuses the first one's matrix instead of recomputing it."""
        key = self.__dict__.get("_features_key")
        if key is None:
            key = self.__dict__["_features_key"] = _features_fingerprint(self.features_)
        docs = tuple(texts)
        cached = _LAST_FEATURES.get(key)
        if cached is not None and cached[0] == docs:
            return cached[1]
        X = self.features_.transform(texts)
        if len(_LAST_FEATURES) >= 8:
            _LAST_FEATURES.clear()
        _LAST_FEATURES[key] = (docs, X)
        return X

    def _stacked(self):
        """Per-label logistic weights and Platt calibration as arrays, built once.

        P(label) = 1 / (1 + exp(a * (x·w + b) + c)), where (a, c) come from the
        sigmoid calibrator, or (-1, 0) for an uncalibrated logistic regression.
        """
        cached = self.__dict__.get("_stack")
        if cached is not None:
            return cached
        n_features = sum(len(t.vocabulary_) for _, t in self.features_.transformer_list)
        members = list(self.estimators_) + list(self.__dict__.get("nb_estimators_") or [])
        n_labels = len(members)
        weights = np.zeros((n_features, n_labels), dtype=np.float64)
        bias = np.zeros(n_labels)
        slope = -np.ones(n_labels)
        offset = np.zeros(n_labels)
        constant = {}
        for j, est in enumerate(members):
            if est is None:
                if j < len(self.labels_):
                    constant[j] = float(self.prior_[j])
                continue
            if isinstance(est, CalibratedClassifierCV):
                cc = est.calibrated_classifiers_[0]
                lr, cal = cc.estimator, cc.calibrators[0]
                slope[j], offset[j] = float(cal.a_), float(cal.b_)
            else:
                lr = est
            weights[:, j] = lr.coef_[0]
            bias[j] = float(lr.intercept_[0])
        self.__dict__["_stack"] = (weights, bias, slope, offset, constant)
        return self.__dict__["_stack"]

    def __getstate__(self):
        state = dict(self.__dict__)
        state.pop("_stack", None)
        state.pop("_features_key", None)
        return state

    def predict(self, texts: list[str]) -> list:
        proba = self.predict_proba(texts)
        if self.kind == "multiclass":
            return [self.labels_[i] for i in proba.argmax(axis=1)]
        return labels_at_thresholds(proba, self.labels_, self.thresholds_)

    def get_params(self) -> dict:
        # getattr default: artifacts saved before a parameter existed still load.
        return {k: getattr(self, k, None) for k in ("kind", "C", "word_ngrams", "char_ngrams", "max_features", "min_df",
                                              "calibration", "calibration_cv", "class_weight", "nb_C", "random_state")}
