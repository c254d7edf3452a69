"""The knowledge tool: answers from the domain's FAQ, found by lexical retrieval."""

from __future__ import annotations

from collections.abc import Sequence
from typing import ClassVar

from pydantic import BaseModel, ConfigDict, Field

from chatwootai.config.data import FaqEntry
from chatwootai.config.schema import KnowledgeSettings
from chatwootai.store.base import Store
from chatwootai.tools.base import Tool, ToolContext, ToolResult
from chatwootai.tools.retrieval import LexicalIndex

MIN_COVERAGE = 0.25
"""Share of the query (by term weight) a document must match to count as relevant."""

RELATIVE_SCORE = 0.35
"""Hits scoring under this fraction of the best hit are dropped."""


class KnowledgeArgs(BaseModel):
    """Arguments of a knowledge search."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=1,
        max_length=500,
        description="A pergunta do cliente ou palavras-chave do assunto, em português.",
    )


class KnowledgeTool(Tool):
    """Searches the domain's FAQ (question, answer and tags) and returns the best answers."""

    kind: ClassVar[str] = "knowledge"
    args_model: ClassVar[type[BaseModel]] = KnowledgeArgs

    def __init__(
        self,
        tool_id: str,
        description: str,
        store: Store,
        settings: KnowledgeSettings,
        entries: Sequence[FaqEntry],
    ) -> None:
        super().__init__(tool_id, description, store)
        self.settings = settings
        self.entries = list(entries)
        self.index = LexicalIndex(
            [[(e.question, 3), (" ".join(e.tags), 2), (e.answer, 1)] for e in self.entries]
        )

    def search(self, query: str, limit: int | None = None) -> list[tuple[FaqEntry, float]]:
        """The relevant entries for `query` with their scores, best first."""
        hits = self.index.search(query, limit or self.settings.max_results)
        if not hits or hits[0].coverage < MIN_COVERAGE:
            return []
        top = hits[0].score
        return [
            (self.entries[h.index], round(h.score, 3))
            for h in hits
            if h.coverage >= MIN_COVERAGE and h.score >= RELATIVE_SCORE * top
        ]

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """The best FAQ answers for the query, or found=False when nothing is relevant."""
        results = self.search(KnowledgeArgs.model_validate(args).query)
        if not results:
            return ToolResult(
                text="Nada encontrado na base de conhecimento sobre isso.", data=[], found=False
            )
        lines = [f"P: {e.question}\nR: {e.answer}" for e, _ in results]
        data = [
            {"question": e.question, "answer": e.answer, "tags": list(e.tags), "score": s}
            for e, s in results
        ]
        return ToolResult(text="\n\n".join(lines), data=data)
