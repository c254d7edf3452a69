"""TextClassifier: fitted and applied with numpy; the same model as scikit-learn's pipeline."""

from __future__ import annotations

import numpy as np
import pytest

from chatwootai.routing.classifier import (
    ClassifierError,
    ClassifierParams,
    TextClassifier,
    char_ngrams,
    word_ngrams,
)

TEXTS = [
    "quanto custa o perfume",
    "qual o preço do batom",
    "tem creme em estoque",
    "meu pedido não chegou",
    "a entrega atrasou",
    "o produto veio quebrado",
]
LABELS = ["sales", "sales", "sales", "support", "support", "support"]
THREE = [*TEXTS, "quero marcar um horário", "tem vaga amanhã de tarde", "posso remarcar a limpeza"]
THREE_LABELS = [*LABELS, "scheduling", "scheduling", "scheduling"]
PROBES = ["quanto custa?", "cadê meu pedido", "perfume quebrado", "horário amanhã", "xyz"]


@pytest.mark.parametrize(
    ("texts", "labels"), [(TEXTS, LABELS), (THREE, THREE_LABELS)], ids=["binary", "multinomial"]
)
def test_probabilities_match_scikit_learn(texts: list[str], labels: list[str]) -> None:
    """The same TF-IDF features and the same optimum as scikit-learn's pipeline."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    tight = 1e-10  # both solvers run to the optimum, so the comparison does not hang on paths
    model = TextClassifier.fit(texts, labels, ClassifierParams(tol=tight, max_iter=10_000))
    blocks = [
        TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, lowercase=False)
        for analyzer in (char_ngrams, word_ngrams)
    ]
    matrix = sparse.hstack([v.fit_transform(texts) for v in blocks]).tocsr()
    reference = LogisticRegression(C=20.0, max_iter=10_000, tol=tight).fit(matrix, labels)
    assert model.labels == tuple(reference.classes_)
    for text in PROBES:
        row = sparse.hstack([v.transform([text]) for v in blocks]).tocsr()
        expected = reference.predict_proba(row)[0]
        assert np.allclose(model.probabilities(text), expected, atol=1e-5)


def test_default_fit_stops_where_scikit_learn_does() -> None:
    """With the default tolerance both stop near the optimum: the same labels, close scores."""
    from scipy import sparse
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression

    model = TextClassifier.fit(THREE, THREE_LABELS)
    blocks = [
        TfidfVectorizer(analyzer=analyzer, sublinear_tf=True, lowercase=False)
        for analyzer in (char_ngrams, word_ngrams)
    ]
    matrix = sparse.hstack([v.fit_transform(THREE) for v in blocks]).tocsr()
    reference = LogisticRegression(C=20.0, max_iter=300).fit(matrix, THREE_LABELS)
    for text in PROBES:
        row = sparse.hstack([v.transform([text]) for v in blocks]).tocsr()
        expected = reference.predict_proba(row)[0]
        ours = model.probabilities(text)
        assert np.argmax(ours) == np.argmax(expected)
        assert np.allclose(ours, expected, atol=0.02)


def test_typos_and_missing_accents_keep_the_label() -> None:
    model = TextClassifier.fit(TEXTS, LABELS)
    assert model.predict("qnto custa o perfumi").label == "sales"
    assert model.predict("meu pedidu nao xegou").label == "support"


def test_no_known_feature_means_no_confidence() -> None:
    model = TextClassifier.fit(TEXTS, LABELS)
    prediction = model.predict("")
    assert prediction.score == 0.0
    assert prediction.probability > 0


def test_score_is_confidence_above_chance() -> None:
    model = TextClassifier.fit(TEXTS, LABELS)
    prediction = model.predict("qual o preço do batom")
    assert prediction.score == pytest.approx((prediction.probability - 0.5) / 0.5)
    assert prediction.second == "support"


def test_one_label_is_not_enough() -> None:
    with pytest.raises(ClassifierError, match="at least two"):
        TextClassifier.fit(["a", "b"], ["sales", "sales"])


def test_char_ngrams_pad_words() -> None:
    assert char_ngrams("Pé", 2, 3) == [" p", "pe", "e ", " pe", "pe "]
