"""A lexical text classifier: fitted with scikit-learn, applied with plain numpy in microseconds.

Features are TF-IDF weights of character n-grams (inside word boundaries, on folded text, so typos
and missing accents still share most n-grams) and of word unigrams and bigrams of stems. The model
is a multinomial logistic regression; its class probability is the confidence the hub compares
with `routing.confidence`.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chatwootai.routing.tokens import tokens
from chatwootai.text import stem

Analyzer = Callable[[str], list[str]]


class ClassifierError(ValueError):
    """The classifier cannot be fitted from the examples given."""


@dataclass(frozen=True, slots=True)
class ClassifierParams:
    """Hyper-parameters of :class:`TextClassifier` (defaults chosen on CLINC150 `val`)."""

    char_min: int = 2
    char_max: int = 5
    word_weight: float = 1.0
    """Weight of the word block beside the character block (both are l2-normalised)."""
    c: float = 20.0
    """Inverse regularisation strength of the logistic regression."""
    max_iter: int = 300


@dataclass(frozen=True, slots=True)
class Prediction:
    """The best label for a text, its confidence, and the runner-up."""

    label: str
    score: float
    """Confidence above chance: 0 when the probability is 1/classes (or no feature is known), 1
    when it is 1; this keeps one threshold meaningful whatever the number of classes."""
    probability: float
    second: str | None
    second_probability: float


def char_ngrams(text: str, low: int = 2, high: int = 5) -> list[str]:
    """Character n-grams of each folded word padded with spaces ("pedido" → " p", "pe", ...)."""
    grams: list[str] = []
    for word in tokens(text):
        padded = f" {word} "
        size = len(padded)
        for n in range(low, high + 1):
            if n > size:
                break
            grams.extend(padded[i : i + n] for i in range(size - n + 1))
    return grams


def word_ngrams(text: str) -> list[str]:
    """Stemmed word unigrams and bigrams."""
    stems = [stem(w) for w in tokens(text)]
    return stems + [f"{a} {b}" for a, b in itertools.pairwise(stems)]


@dataclass(frozen=True, slots=True)
class _Block:
    """One fitted TF-IDF block: vocabulary, idf and weight in the concatenated feature space."""

    analyzer: Analyzer
    vocabulary: dict[str, int]
    idf: list[float]
    offset: int
    weight: float

    def features(self, text: str) -> tuple[list[int], list[float]]:
        """Column indexes and weights of `text` in this block (sublinear tf, l2-normalised)."""
        counts = Counter(g for g in self.analyzer(text) if g in self.vocabulary)
        if not counts:
            return [], []
        cols: list[int] = []
        vals: list[float] = []
        for gram, count in counts.items():
            col = self.vocabulary[gram]
            cols.append(col)
            vals.append((1.0 + math.log(count)) * self.idf[col])
        norm = math.sqrt(sum(v * v for v in vals)) or 1.0
        scale = self.weight / norm
        return [self.offset + i for i in cols], [v * scale for v in vals]


class TextClassifier:
    """Short-text classifier over lexical features; `predict` costs no scikit-learn call."""

    def __init__(
        self,
        labels: tuple[str, ...],
        blocks: tuple[_Block, ...],
        coef: npt.NDArray[np.float64],
        intercept: npt.NDArray[np.float64],
    ) -> None:
        self.labels = labels
        self._blocks = blocks
        self._coef_t = np.ascontiguousarray(coef.T)  # (features, classes): one row per feature
        self._intercept = intercept

    @classmethod
    def fit(
        cls,
        texts: Sequence[str],
        labels: Sequence[str],
        params: ClassifierParams | None = None,
    ) -> TextClassifier:
        """Fit on labelled texts; at least two distinct labels are needed."""
        from scipy import sparse
        from sklearn.feature_extraction.text import TfidfVectorizer
        from sklearn.linear_model import LogisticRegression
        from threadpoolctl import threadpool_limits

        params = params or ClassifierParams()
        if len(texts) != len(labels):
            raise ClassifierError("texts and labels differ in length")
        classes = sorted(set(labels))
        if len(classes) < 2:
            raise ClassifierError(
                f"the classifier needs examples of at least two crews, got {classes}"
            )

        def chars(text: str) -> list[str]:
            return char_ngrams(text, params.char_min, params.char_max)

        analyzers: list[tuple[Analyzer, float]] = [(chars, 1.0)]
        if params.word_weight > 0:
            analyzers.append((word_ngrams, params.word_weight))
        matrices = []
        blocks: list[_Block] = []
        offset = 0
        for analyzer, weight in analyzers:
            vectorizer = TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, lowercase=False)
            matrix = vectorizer.fit_transform(texts) * weight
            matrices.append(matrix)
            vocabulary = {str(k): int(v) for k, v in vectorizer.vocabulary_.items()}
            idf = [float(x) for x in vectorizer.idf_]
            blocks.append(_Block(analyzer, vocabulary, idf, offset, weight))
            offset += len(vocabulary)
        features = sparse.hstack(matrices).tocsr()
        model = LogisticRegression(C=params.c, max_iter=params.max_iter)
        # One BLAS thread: with small problems, thread start-up and contention cost ten times more.
        with threadpool_limits(limits=1):
            model.fit(features, list(labels))
        coef = np.asarray(model.coef_, dtype=np.float64)
        intercept = np.asarray(model.intercept_, dtype=np.float64)
        if len(model.classes_) == 2:  # binary: one row for the second class; make it symmetric
            coef = np.vstack([-coef[0] / 2, coef[0] / 2])
            intercept = np.array([-intercept[0] / 2, intercept[0] / 2])
        return cls(tuple(str(c) for c in model.classes_), tuple(blocks), coef, intercept)

    def _probabilities(self, text: str) -> tuple[npt.NDArray[np.float64], bool]:
        """Class probabilities of `text`, and whether any of its features is known."""
        cols: list[int] = []
        vals: list[float] = []
        for block in self._blocks:
            c, v = block.features(text)
            cols.extend(c)
            vals.extend(v)
        logits = self._intercept.copy()
        if cols:
            logits += np.asarray(vals) @ self._coef_t[cols]
        logits -= logits.max()
        exp = np.exp(logits)
        result: npt.NDArray[np.float64] = exp / exp.sum()
        return result, bool(cols)

    def probabilities(self, text: str) -> npt.NDArray[np.float64]:
        """Class probabilities of `text`, in the order of :attr:`labels`."""
        return self._probabilities(text)[0]

    def predict(self, text: str) -> Prediction:
        """The most probable label of `text`, its confidence and the runner-up."""
        probs, known = self._probabilities(text)
        order = np.argsort(probs)[::-1]
        best = int(order[0])
        second = int(order[1]) if len(order) > 1 else None
        chance = 1.0 / len(probs)
        probability = float(probs[best])
        score = max(0.0, (probability - chance) / (1.0 - chance)) if known else 0.0
        return Prediction(
            label=self.labels[best],
            score=score,
            probability=probability,
            second=self.labels[second] if second is not None else None,
            second_probability=float(probs[second]) if second is not None else 0.0,
        )
