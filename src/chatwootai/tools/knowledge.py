"""The knowledge tool: answers from the domain's FAQ and documents, found by retrieval.

The tool searches a :class:`~chatwootai.knowledge.index.PassageIndex`: at first its FAQ entries
(from the config); once the domain's runtime is built, the library attaches the index of the FAQ
and of the tool's documents and web pages (and the embeddings client when the domain ranks by
meaning too). FAQ indexes are shared by every domain with the same entries.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, ClassVar

from pydantic import BaseModel, ConfigDict, Field

from chatwootai.artefacts import SHARED
from chatwootai.config.data import FaqEntry
from chatwootai.config.schema import KnowledgeSettings
from chatwootai.knowledge.embeddings import EmbeddingsClient
from chatwootai.knowledge.index import Passage, PassageIndex, faq_key, faq_passages
from chatwootai.store.base import Store
from chatwootai.tools.base import Tool, ToolContext, ToolResult


class KnowledgeArgs(BaseModel):
    """Arguments of a knowledge search."""

    model_config = ConfigDict(extra="forbid")

    query: str = Field(
        min_length=1,
        max_length=500,
        description="A pergunta do cliente ou palavras-chave do assunto, em português.",
    )


def faq_index(entries: Sequence[FaqEntry]) -> PassageIndex:
    """The (shared) index of FAQ entries alone."""
    faq = faq_passages(entries)
    return SHARED.get_or_build("faq-index", faq_key(faq), lambda: PassageIndex.build([faq]))


def passage_lines(passage: Passage) -> str:
    """A passage for the LLM: "P: question / R: answer", documents with their source."""
    if passage.kind == "faq":
        return f"P: {passage.title}\nR: {passage.text}"
    title = passage.title or passage.source
    return f"P: {title} ({passage.citation()})\nR: {passage.text}"


class KnowledgeTool(Tool):
    """Searches the domain's FAQ and documents and returns the best passages."""

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
        self.index: PassageIndex = faq_index(self.entries)
        """What the tool searches; replaced whole (never mutated) when sources change."""
        self.embedder: EmbeddingsClient | None = None
        """Embeds queries when the index ranks by meaning too."""

    def search(self, query: str, limit: int | None = None) -> list[tuple[Passage, float]]:
        """The relevant passages for `query` by words, best first."""
        return self.index.search(query, limit or self.settings.max_results)

    async def find(self, query: str, limit: int | None = None) -> list[tuple[Passage, float]]:
        """The relevant passages for `query` (by words and meaning when hybrid), best first."""
        index, embedder = self.index, self.embedder
        vector = None
        if index.hybrid and embedder is not None:
            vector = await embedder.embed_query(query)
        return index.search(query, limit or self.settings.max_results, vector)

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """The best passages for the query, or found=False when nothing is relevant."""
        results = await self.find(KnowledgeArgs.model_validate(args).query)
        if not results:
            return ToolResult(
                text="Nada encontrado na base de conhecimento sobre isso.", data=[], found=False
            )
        lines = [passage_lines(p) for p, _ in results]
        data: list[dict[str, Any]] = [
            {
                "question": p.title,
                "answer": p.text,
                "source": p.source,
                "location": p.location,
                "kind": p.kind,
                "tags": list(p.tags),
                "score": s,
            }
            for p, s in results
        ]
        return ToolResult(text="\n\n".join(lines), data=data)
