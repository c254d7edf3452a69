"""The files tool: the domain's documents (a price list, a menu) sent with the reply."""

from __future__ import annotations

from pathlib import PurePosixPath
from typing import ClassVar
from urllib.parse import unquote, urlsplit

from pydantic import BaseModel, ConfigDict, Field

from chatwootai.config.schema import FilesSettings
from chatwootai.media.attachments import OutboundAttachment
from chatwootai.store.base import Store
from chatwootai.text import fold
from chatwootai.tools.base import Tool, ToolContext, ToolResult


class FilesArgs(BaseModel):
    """Which file to send."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(
        min_length=1, max_length=120, description="Nome do arquivo, um dos listados na ferramenta."
    )


def file_name(source: str) -> str:
    """The name an agent uses for a file: its name without extension."""
    path = urlsplit(source).path if "://" in source else source.replace("\\", "/")
    return PurePosixPath(unquote(path)).stem


class FilesTool(Tool):
    """Sends one of the domain's files to the customer with the reply."""

    kind: ClassVar[str] = "files"
    args_model: ClassVar[type[BaseModel]] = FilesArgs

    def __init__(
        self, tool_id: str, description: str, store: Store, settings: FilesSettings
    ) -> None:
        self.files = {file_name(source): source for source in settings.files}
        self.captions = settings.captions
        listed = ", ".join(self.files)
        what = description or "Envia ao cliente um arquivo da empresa junto com a resposta."
        super().__init__(tool_id, f"{what} Arquivos: {listed}.", store)

    def find(self, name: str) -> str | None:
        """The file an agent named (accents, case and extension ignored), or None."""
        wanted = fold(file_name(name))
        for known in self.files:
            if fold(known) == wanted:
                return known
        close = [k for k in self.files if wanted and wanted in fold(k)]
        return close[0] if len(close) == 1 else None

    async def run(self, ctx: ToolContext, args: BaseModel) -> ToolResult:
        """The file as a reply attachment, or found=False with the files there are."""
        name = self.find(FilesArgs.model_validate(args).name)
        if name is None:
            return ToolResult(
                text=f"Arquivo não encontrado. Disponíveis: {', '.join(self.files)}.",
                found=False,
            )
        source = self.files[name]
        caption = self.captions.get(name, "")
        attachment = (
            OutboundAttachment(url=source, caption=caption)
            if "://" in source
            else OutboundAttachment(path=source, caption=caption)
        )
        return ToolResult(
            text=f"O arquivo {name} segue junto com a sua resposta.",
            data={"file": name},
            attachments=[attachment],
        )
