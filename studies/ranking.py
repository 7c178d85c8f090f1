"""Screening prioritisation: rank undecided records by predicted relevance.

Plain Python (no Django): TF-IDF on title + abstract + keywords (word unigrams and bigrams,
sublinear term frequency) and a linear classifier with class balancing, because screening
data are heavily imbalanced (often 1-5 % included). Deterministic for a given seed.

    model = train(texts, labels)          # labels: 1 include, 0 exclude
    scores = score(model, other_texts)    # higher = more likely relevant, in [0, 1]
    terms = top_terms(model, text, k=5)   # the terms that pushed this record up

The default model was chosen with the simulation benchmark (bench/prioritisation.py,
BENCHMARKS.md "## ranking").
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

import numpy as np
from scipy import sparse
from sklearn.feature_extraction.text import HashingVectorizer, TfidfTransformer
from sklearn.linear_model import LogisticRegression
from sklearn.naive_bayes import ComplementNB, MultinomialNB
from sklearn.svm import LinearSVC

MODELS = ("logistic", "svm", "cnb", "nb")
MODEL_LABELS = {
    "logistic": "TF-IDF + logistic regression (balanced)",
    "svm": "TF-IDF + linear SVM (balanced)",
    "cnb": "TF-IDF + complement naive Bayes",
    "nb": "TF-IDF + multinomial naive Bayes (balanced)",
}
DEFAULT_MODEL = "logistic"

# Weight given to the include class relative to plain class balancing: with 1 include and
# 50 excludes the includes carry INCLUDE_RATIO times the excludes' total weight. Recall is
# what matters in screening, so the rare class is pushed harder than "balanced" would.
INCLUDE_RATIO = 4.0

_TOKEN = re.compile(r"(?u)\b\w\w+\b")
# No stop-word list: bigrams such as "model of" / "rats were" carry signal, and dropping
# stop words cost 0.07 WSS@95 on Bannach-Brown 2019 in the simulation benchmark.
_STOP: frozenset[str] = frozenset()


def _analyse(text: str) -> list[str]:
    """Unigrams and bigrams. Written by hand (not sklearn's analyzer) because this runs on
    every record at every retrain and one regex pass plus a zip is faster; bare numbers
    are dropped (years, page numbers, sample sizes do not generalise)."""
    words = [w for w in _TOKEN.findall(text.lower()) if w not in _STOP and not w.isdigit()]
    return words + [f"{a} {b}" for a, b in zip(words, words[1:], strict=False)]


def record_text(title: str = "", abstract: str = "", keywords: Iterable[str] | str = "") -> str:
    """The text the model reads for a record. The title is repeated: it is the densest
    signal and many records (conference abstracts, old citations) have no abstract."""
    if not isinstance(keywords, str):
        keywords = " ; ".join(str(k) for k in keywords or ())
    title = title or ""
    return f"{title} {title} {abstract or ''} {keywords}".strip()


N_FEATURES = 2**20


def _hasher() -> HashingVectorizer:
    return HashingVectorizer(
        analyzer=_analyse,
        n_features=N_FEATURES,
        alternate_sign=False,
        norm=None,
        dtype=np.float32,
    )


def term_counts(texts: Sequence[str]) -> sparse.csr_matrix:
    """Hashed term counts, one row per text. Stateless (no vocabulary), so a record's row
    never changes and can be cached between retrains: tokenising is the slow part, and with
    cached counts retraining and ranking are sparse arithmetic only."""
    if not len(texts):
        return sparse.csr_matrix((0, N_FEATURES), dtype=np.float32)
    return _hasher().transform(texts).tocsr()


class Vectoriser:
    """TF-IDF (sublinear tf, smoothed idf, l2 norm) over hashed term counts."""

    def __init__(self) -> None:
        self.tfidf = TfidfTransformer(sublinear_tf=True)

    def fit_counts(self, counts) -> Vectoriser:
        self.tfidf.fit(counts)
        return self

    def transform_counts(self, counts) -> sparse.csr_matrix:
        return self.tfidf.transform(counts).astype(np.float32).tocsr()

    def fit(self, texts: Sequence[str]) -> Vectoriser:
        return self.fit_counts(term_counts(texts))

    def transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        return self.transform_counts(term_counts(texts))

    def fit_transform(self, texts: Sequence[str]) -> sparse.csr_matrix:
        counts = term_counts(texts)
        return self.fit_counts(counts).transform_counts(counts)


def vectoriser() -> Vectoriser:
    return Vectoriser()


def term_index(terms: Sequence[str]) -> np.ndarray:
    """The hashed column of each term (to name the columns that drove a score)."""
    if not len(terms):
        return np.zeros(0, dtype=np.int64)
    h = HashingVectorizer(
        analyzer=lambda t: [t], n_features=N_FEATURES, alternate_sign=False, norm=None
    )
    return h.transform(list(terms)).tocsr().indices.astype(np.int64)


def sample_weights(y: np.ndarray, ratio: float | None = None) -> np.ndarray:
    """Per-sample weights: includes in total weigh `ratio` times the excludes."""
    ratio = INCLUDE_RATIO if ratio is None else ratio
    n_pos = int((y == 1).sum())
    n_neg = int((y == 0).sum())
    w = np.ones(len(y), dtype=np.float64)
    if n_pos and n_neg:
        w[y == 0] = n_pos / (ratio * n_neg)
        w *= len(y) / w.sum()
    return w


def fit_classifier(name: str, X, y: np.ndarray, *, seed: int = 0):
    """Fit one of MODELS on a feature matrix."""
    y = np.asarray(y, dtype=np.int8)
    if len(set(y.tolist())) != 2:
        raise ValueError("Training needs at least one include and one exclude.")
    w = sample_weights(y)
    if name == "logistic":
        # Dual liblinear: same objective, much faster when terms far outnumber records.
        clf = LogisticRegression(
            C=10.0, max_iter=1000, solver="liblinear", dual=True, random_state=seed
        )
    elif name == "svm":
        clf = LinearSVC(C=0.11, loss="squared_hinge", random_state=seed, max_iter=5000)
    elif name == "cnb":
        clf = ComplementNB(alpha=0.3)
    elif name == "nb":
        clf = MultinomialNB(alpha=3.822)
    else:
        raise ValueError(f"Unknown model {name!r}; choose one of {', '.join(MODELS)}.")
    clf.fit(X, y, sample_weight=w)
    return clf


def decision(clf, X) -> np.ndarray:
    """Relevance in [0, 1], monotone in the classifier's own confidence."""
    if hasattr(clf, "predict_proba") and not isinstance(clf, LinearSVC):
        if isinstance(clf, MultinomialNB | ComplementNB):
            # NB probabilities saturate at 0/1 on long texts; rank on the log-odds instead.
            jll = clf.predict_joint_log_proba(X)
            return _sigmoid(jll[:, 1] - jll[:, 0])
        return clf.predict_proba(X)[:, 1].astype(np.float64)
    return _sigmoid(np.asarray(clf.decision_function(X), dtype=np.float64))


def _sigmoid(z: np.ndarray) -> np.ndarray:
    z = np.clip(z, -500, 500)
    return 1.0 / (1.0 + np.exp(-z))


def feature_weights(clf) -> np.ndarray:
    """How much each feature pushes towards include (positive) or exclude (negative)."""
    if isinstance(clf, MultinomialNB | ComplementNB):
        flp = clf.feature_log_prob_
        w = flp[1] - flp[0]
        # ComplementNB's feature_log_prob_ is the complement's, so the sign is reversed.
        return -w if isinstance(clf, ComplementNB) else w
    return np.asarray(clf.coef_).ravel()


@dataclass
class RankingModel:
    name: str
    vectoriser: Vectoriser
    classifier: object
    seed: int = 0
    n_include: int = 0
    n_exclude: int = 0
    _weights: np.ndarray | None = field(default=None, repr=False)

    @property
    def label(self) -> str:
        return MODEL_LABELS[self.name]

    @property
    def weights(self) -> np.ndarray:
        if self._weights is None:
            self._weights = feature_weights(self.classifier)
        return self._weights

    def weight_of(self, term: str) -> float:
        return float(self.weights[term_index([term])[0]])


def train(
    texts: Sequence[str],
    labels: Sequence[int | bool],
    *,
    model: str = DEFAULT_MODEL,
    seed: int = 0,
    corpus: Sequence[str] | None = None,
    counts=None,
    corpus_counts=None,
) -> RankingModel:
    """Train on labelled texts (1 include, 0 exclude). `corpus` (e.g. the undecided records)
    is used for the IDF only, never as training examples, so terms that occur only in
    unscreened records still count in `score`. `counts`/`corpus_counts` (from
    `term_counts`) may be given instead of the texts to skip tokenising."""
    if counts is None:
        counts = term_counts(texts)
    if counts.shape[0] != len(labels):
        raise ValueError("texts and labels differ in length")
    y = np.asarray([1 if bool(v) else 0 for v in labels], dtype=np.int8)
    if corpus_counts is None and corpus:
        corpus_counts = term_counts(corpus)
    vec = Vectoriser()
    if corpus_counts is not None and corpus_counts.shape[0]:
        vec.fit_counts(sparse.vstack([counts, corpus_counts], format="csr"))
    else:
        vec.fit_counts(counts)
    clf = fit_classifier(model, vec.transform_counts(counts), y, seed=seed)
    return RankingModel(
        name=model,
        vectoriser=vec,
        classifier=clf,
        seed=seed,
        n_include=int(y.sum()),
        n_exclude=int(len(y) - y.sum()),
    )


def score(model: RankingModel, texts: Sequence[str], *, X=None) -> np.ndarray:
    """Relevance scores in [0, 1] for `texts` (or a precomputed matrix X)."""
    if X is None:
        if not len(texts):
            return np.zeros(0)
        X = model.vectoriser.transform(texts)
    return decision(model.classifier, X)


def rank(scores: Sequence[float]) -> np.ndarray:
    """Indices from most to least relevant; ties keep their input (import) order."""
    s = np.asarray(scores, dtype=np.float64)
    return np.lexsort((np.arange(len(s)), -s))


def top_terms(model: RankingModel, text: str, k: int = 5, *, row=None) -> list[str]:
    """The k terms of `text` that raised its score most (tf-idf value x model weight)."""
    if k <= 0:
        return []
    if row is None:
        row = model.vectoriser.transform([text])
    row = sparse.csr_matrix(row)
    if row.nnz == 0:
        return []
    # Hashing keeps no vocabulary: name the columns from the record's own tokens.
    tokens = list(dict.fromkeys(_analyse(text)))
    cols = term_index(tokens)
    values = dict(zip(row.indices.tolist(), row.data.tolist(), strict=True))
    weights = model.weights
    scored = []
    seen: set[int] = set()
    for tok, col in zip(tokens, cols.tolist(), strict=True):
        if col in seen:
            continue
        seen.add(col)
        c = values.get(col, 0.0) * float(weights[col])
        if c > 0 and math.isfinite(c):
            scored.append((-c, tok))
    scored.sort()
    return [t for _, t in scored[:k]]


def top_terms_many(model: RankingModel, texts: Sequence[str], X, k: int = 5) -> list[list[str]]:
    """top_terms for each text, given its already-computed tf-idf rows."""
    X = sparse.csr_matrix(X)
    return [top_terms(model, t, k, row=X[i]) for i, t in enumerate(texts)]
