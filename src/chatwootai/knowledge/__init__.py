"""Knowledge from the business's own documents: sources, extraction, chunks, indexes, sync."""
