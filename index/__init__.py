"""Indexing: load documents, chunk them with exact spans, embed, and store them in Chroma."""
