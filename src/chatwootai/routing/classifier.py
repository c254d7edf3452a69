"""A lexical text classifier: fitted and applied with numpy alone, predicting in microseconds.

Features are TF-IDF weights of character n-grams (inside word boundaries, on folded text, so typos
and missing accents still share most n-grams) and of word unigrams and bigrams of stems, weighted
as scikit-learn's ``TfidfVectorizer(sublinear_tf=True)`` weighs them. The model is a multinomial
logistic regression with scikit-learn's objective (:mod:`chatwootai.routing.logistic`); its class
probability is the confidence the hub compares with `routing.confidence`. Nothing here imports
scikit-learn or SciPy, whose imports alone would cost a serving process about a second.
"""

from __future__ import annotations

import itertools
import math
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from chatwootai.routing.logistic import Indexes, SparseRows, Values, fit_logistic
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
    tol: float = 1e-4
    """Stop when no gradient component of the (mean) objective exceeds this (scikit-learn's)."""


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
        return self.weigh(Counter(g for g in self.analyzer(text) if g in self.vocabulary))

    def weigh(self, counts: Counter[str]) -> tuple[list[int], list[float]]:
        """Column indexes and weights of known n-gram counts (sublinear tf, l2-normalised)."""
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
    """Short-text classifier over lexical features (TF-IDF n-grams, logistic regression)."""

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
        # Text by text, so both analyzers reuse the text's cached tokens.
        counts = [[Counter(analyzer(text)) for analyzer, _ in analyzers] for text in texts]
        blocks: list[_Block] = []
        parts: list[tuple[Indexes, Indexes, Values]] = []
        offset = 0
        for b, (analyzer, weight) in enumerate(analyzers):
            block, part = _fit_block(analyzer, [c[b] for c in counts], offset, weight)
            blocks.append(block)
            parts.append(part)
            offset += len(block.vocabulary)
        rows, cols, vals = (np.concatenate(arrays) for arrays in zip(*parts, strict=True))
        features = SparseRows(rows, cols, vals, (len(texts), offset))
        index = {label: i for i, label in enumerate(classes)}
        targets = np.fromiter((index[label] for label in labels), dtype=np.intp, count=len(labels))
        fitted = fit_logistic(
            features,
            targets,
            len(classes),
            c=params.c,
            max_iter=params.max_iter,
            tol=params.tol,
        )
        return cls(tuple(classes), tuple(blocks), fitted.coef, fitted.intercept)

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


def _fit_block(
    analyzer: Analyzer, counts: list[Counter[str]], offset: int, weight: float
) -> tuple[_Block, tuple[Indexes, Indexes, Values]]:
    """A TF-IDF block fitted on the texts' n-gram counts (as scikit-learn's TfidfVectorizer with
    smooth idf and sublinear tf), and the texts' features in it: rows, columns and values."""
    document_frequency: Counter[str] = Counter()
    for text_counts in counts:
        document_frequency.update(text_counts.keys())
    vocabulary = {gram: i for i, gram in enumerate(sorted(document_frequency))}
    frequencies = np.fromiter(
        (document_frequency[gram] for gram in vocabulary), dtype=np.float64, count=len(vocabulary)
    )
    idf = np.log((1 + len(counts)) / (1 + frequencies)) + 1.0
    rows = np.repeat(np.arange(len(counts), dtype=np.intp), [len(c) for c in counts])
    cols = np.fromiter(
        (vocabulary[gram] for c in counts for gram in c), dtype=np.intp, count=len(rows)
    )
    tf = np.fromiter((n for c in counts for n in c.values()), dtype=np.float64, count=len(rows))
    values = (1.0 + np.log(tf)) * idf[cols]
    norms = np.sqrt(np.bincount(rows, weights=values * values, minlength=len(counts)))
    values *= weight / np.where(norms > 0, norms, 1.0)[rows]
    block = _Block(analyzer, vocabulary, idf.tolist(), offset, weight)
    return block, (rows, cols + offset, values)
