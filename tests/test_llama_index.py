"""llama-index components (qa/llama_index.py): retriever, query engine, Document ingest.

The model tests use llama-index's own RetrieverQueryEngine and OpenAILike LLM against the real
llama.cpp server (`qa llm-server`); every passage they return must be an exact span of the seed.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys

import pytest
from conftest import ROOT, SEEDS, offered
from readme import python_snippet

from qa.llama_index import QAQueryEngine, QARetriever, ingest_documents, to_documents
from qa.outcomes import NOT_IN_DOCUMENTS

SEED_FILE = next(SEEDS.glob("*.txt"))
SEED_TEXT = SEED_FILE.read_text(encoding="utf-8")
QUESTIONS = (
    "Who did Blinken meet on Saturday?",
    "What did Wang call the US response?",
    "Who is the State Department spokesman?",
)


def assert_seed_span(metadata: dict, text: str) -> None:
    """The node is the exact span of the seed file that its metadata names."""
    assert metadata["source"] == SEED_FILE.name
    assert SEED_TEXT[metadata["start"] : metadata["end"]] == text
    assert "title" in metadata and "page" in metadata


def openai_like(url: str, **kw):
    from llama_index.llms.openai_like import OpenAILike

    kw.setdefault("max_tokens", 96)
    return OpenAILike(
        model="smollm2", api_base=url, api_key="none", is_chat_model=True,
        context_window=2048, timeout=120, **kw,
    )  # fmt: skip


def test_retriever_nodes_are_exact_spans_with_source_page_title(seed_engine):
    retriever = QARetriever(seed_engine, k=4)
    nodes = retriever.retrieve("Who did Blinken meet in Munich?")
    assert len(nodes) == 4
    scores = [n.score for n in nodes]
    assert scores == sorted(scores, reverse=True)
    for n in nodes:
        assert_seed_span(n.node.metadata, n.node.get_content())
        assert (n.node.start_char_idx, n.node.end_char_idx) == (
            n.node.metadata["start"],
            n.node.metadata["end"],
        )
        # The model sees source and title, not offsets.
        shown = n.node.get_content(metadata_mode="llm")
        assert "source:" in shown and "start:" not in shown
    assert "Blinken" in nodes[0].node.get_content()


def test_query_engine_answers_with_citations_and_refuses(seed_engine):
    engine = QAQueryEngine(engine=seed_engine)
    response = engine.query("Who is the State Department spokesman?")
    assert offered(response.metadata["answer"])  # answered, or not sure with it first
    assert "Ned Price" in response.metadata["answer"].text
    assert response.response == response.metadata["answer"].reply
    cited = response.metadata["citations"]
    assert cited and [c["n"] for c in cited] == list(range(1, len(cited) + 1))
    for c, node in zip(cited, response.source_nodes, strict=True):
        assert SEED_TEXT[c["start"] : c["end"]] == c["text"] == node.node.get_content()
        assert node.node.metadata["n"] == c["n"]
        for s, e in c["sentences"]:
            assert c["start"] <= s < e <= c["end"]
    refused = engine.query("What is the boiling point of tungsten?")
    assert refused.metadata["status"] == "refused" and not refused.source_nodes
    assert refused.response == NOT_IN_DOCUMENTS


def test_llama_documents_are_indexed_with_spans_of_the_text_as_given(make_settings, tmp_path):
    from llama_index.core import Document, SimpleDirectoryReader

    settings = make_settings(collection="from_llama")
    note = (
        "Quarterly notes\n\n  The heron count at Lake Ross was 41 in March.\tIt rose to 57 by May."
    )
    pages = ["Page one is about owls. Owls hunt at night.", "Page two: the kestrel hovers."]
    docs = [
        Document(text=note, metadata={"source": "notes/herons.md", "title": "Heron notes"}),
        *[Document(text=t, metadata={"file_path": "/data/birds.pdf"}) for t in pages],
        Document(text="   ", metadata={"source": "empty.txt"}),
    ]
    report = ingest_documents(docs, settings)
    assert sorted(report.added) == ["/data/birds.pdf", "notes/herons.md"]
    assert [s.source for s in report.skipped] == ["empty.txt"]

    retriever = QARetriever(settings=settings, k=3)
    best = retriever.retrieve("heron count at Lake Ross")[0].node
    assert best.metadata["source"] == "notes/herons.md"
    assert best.metadata["title"] == "Heron notes"
    assert note[best.metadata["start"] : best.metadata["end"]] == best.get_content()

    joined, _ = to_documents(docs[1:3])
    kestrel = retriever.retrieve("Which bird hovers?")[0].node
    assert kestrel.metadata["source"] == "/data/birds.pdf"
    # The second document of that source is its page 2 (here in one chunk with page 1).
    assert (kestrel.metadata["page"], kestrel.metadata["page_end"]) == (1, 2)
    assert joined[0].pages == (0, len(pages[0]) + 2)
    text = joined[0].text
    assert text[kestrel.metadata["start"] : kestrel.metadata["end"]] == kestrel.get_content()

    again = ingest_documents(docs, settings)
    assert again.unchanged == 2 and again.chunks_embedded == 0
    changed = ingest_documents(
        [Document(text=note + " In June: 60.", metadata=docs[0].metadata)], settings
    )
    assert changed.updated == ["notes/herons.md"]

    # A LlamaHub reader's output as it comes: file paths become sources relative to the cwd.
    folder = tmp_path / "reader"
    folder.mkdir()
    (folder / "owl.md").write_text("# Owls\n\nThe barn owl nests in old barns.\n")
    loaded = SimpleDirectoryReader(str(folder)).load_data()
    report = ingest_documents(loaded, settings.model_copy(update={"collection": "reader_docs"}))
    assert report.added == [(folder / "owl.md").resolve().as_posix()]
    with pytest.raises(TypeError):
        ingest_documents(["not a document"], settings)


def test_ingest_documents_keeps_its_options_or_refuses_them(seed_engine, make_settings):
    from llama_index.core import Document

    from qa.engine import Engine
    from qa.errors import ConfigError

    doc = Document(text="The heron count at Lake Ross was 41.", metadata={"source": "h.md"})
    with pytest.raises(ConfigError, match="collection"):  # it went to the engine's collection
        ingest_documents([doc], engine=seed_engine, collection="herons")
    with pytest.raises(ConfigError, match="'colection'"):
        ingest_documents([doc], make_settings(), colection="typo")
    assert ingest_documents([doc], make_settings(), collection="herons").added == ["h.md"]
    assert [d.source for d in Engine(make_settings(collection="herons")).documents()] == ["h.md"]
    assert "h.md" not in {d.source for d in seed_engine.documents()}


@pytest.mark.llm
def test_llama_index_retriever_query_engine_with_openai_like(seed_engine, llm_server):
    from llama_index.core.query_engine import RetrieverQueryEngine

    query_engine = RetrieverQueryEngine.from_args(
        QARetriever(seed_engine, k=3), llm=openai_like(llm_server)
    )
    response = query_engine.query("Who did Blinken meet on Saturday?")
    assert isinstance(response.response, str) and response.response.strip()
    assert len(response.source_nodes) == 3
    for n in response.source_nodes:
        assert_seed_span(n.node.metadata, n.node.get_content())


@pytest.mark.llm
def test_query_engine_generates_through_a_llama_index_llm(seed_engine, llm_server):
    engine = QAQueryEngine(openai_like(llm_server), engine=seed_engine)
    cited = None
    for question in QUESTIONS:
        response = engine.query(question)
        meta = response.metadata
        assert meta["mode"] == "generated:smollm2", meta["notice"]
        assert meta["status"] in ("answered", "uncertain", "refused")
        numbers = {int(n) for n in re.findall(r"\[(\d+)\]", response.response)}
        assert numbers == {c["n"] for c in meta["citations"]}
        for c in meta["citations"]:
            assert SEED_TEXT[c["start"] : c["end"]] == c["text"]
        if meta["citations"]:
            cited = response
            break
    assert cited is not None, "the model cited no passage on any seed question"

    # A llama-index LLM that fails: the extractive answer, with a notice that says so.
    dead = QAQueryEngine(openai_like("http://127.0.0.1:9/v1", max_retries=0), engine=seed_engine)
    fallback = dead.query("Who is the State Department spokesman?")
    assert fallback.metadata["mode"] == "extractive-fallback"
    assert "smollm2" in fallback.metadata["notice"] and "Ned Price" in fallback.response


@pytest.mark.llm
def test_readme_llama_index_snippet_runs(llm_server, tmp_path):
    code = python_snippet("llama-index").replace("http://127.0.0.1:8080/v1", llm_server)
    env = {k: v for k, v in os.environ.items() if not k.startswith("QA_")}
    env.update(QA_STORE_DIR=str(tmp_path / "store"), PYTHONPATH=str(ROOT))
    done = subprocess.run(
        [sys.executable, "-c", code], cwd=ROOT, env=env, capture_output=True, text=True, timeout=500
    )
    assert done.returncode == 0, done.stderr[-3000:]
    out = done.stdout
    assert "added 1" in out
    spans = re.findall(r"seeds/(\S+) \[(\d+):(\d+)\]", out)
    assert len(spans) == 3
    for name, start, end in spans:
        assert name == SEED_FILE.name and int(start) < int(end) <= len(SEED_TEXT)
    assert re.search(r"^(answered|uncertain|refused) ", out, re.MULTILINE)


def _cited(meta: dict) -> list[tuple]:
    return [(c["n"], c["source"], c["start"], c["end"]) for c in meta["citations"]]


def test_streaming_and_async_give_the_plain_answer_and_citations(seed_engine):
    """streaming=True: llama-index's StreamingResponse, the same text and, at the end, the same
    citations; aquery the same, as an AsyncStreamingResponse; the retriever's aretrieve too."""
    import asyncio

    from llama_index.core.base.response.schema import AsyncStreamingResponse, StreamingResponse

    question = "Who is the State Department spokesman?"
    plain = QAQueryEngine(engine=seed_engine).query(question)
    streaming = QAQueryEngine(engine=seed_engine, streaming=True)
    streamed = streaming.query(question)
    assert isinstance(streamed, StreamingResponse)
    assert streamed.source_nodes == [] and not streamed.metadata  # known once it is read
    pieces = list(streamed.response_gen)
    assert "".join(pieces) == plain.response
    assert offered(streamed.metadata["answer"]) and "Ned Price" in "".join(pieces)
    assert streamed.metadata["status"] == plain.metadata["status"]
    assert _cited(streamed.metadata) == _cited(plain.metadata)
    assert [n.node.get_content() for n in streamed.source_nodes] == [
        n.node.get_content() for n in plain.source_nodes
    ]
    with pytest.raises(Exception, match="empty"):
        streaming.query("   ")  # refused before any stream begins

    async def run():
        whole = await QAQueryEngine(engine=seed_engine).aquery(question)
        flowing = await streaming.aquery(question)
        assert isinstance(flowing, AsyncStreamingResponse)
        text = "".join([p async for p in flowing.async_response_gen()])
        nodes = await QARetriever(seed_engine, k=3).aretrieve(question)
        return whole, flowing, text, nodes

    whole, flowing, text, nodes = asyncio.run(run())
    assert whole.response == text == plain.response
    assert _cited(whole.metadata) == _cited(flowing.metadata) == _cited(plain.metadata)
    assert [n.node.node_id for n in nodes] == [
        n.node.node_id for n in QARetriever(seed_engine, k=3).retrieve(question)
    ]


@pytest.mark.llm
def test_streaming_through_a_llama_index_llm(seed_engine, llm_server):
    """Against the real llama.cpp server: the text arrives in pieces as the model writes it, and
    the [n] markers in it are the citations at the end (sync and async)."""
    import asyncio

    engine = QAQueryEngine(openai_like(llm_server), engine=seed_engine, streaming=True)
    streamed = engine.query(QUESTIONS[0])
    pieces = list(streamed.response_gen)
    text = "".join(pieces)
    meta = streamed.metadata
    assert meta["mode"] == "generated:smollm2", meta["notice"]
    assert len(pieces) > 3, pieces  # token by token, not one block at the end
    assert_streamed_as_checked(text, meta)
    for c in meta["citations"]:
        assert SEED_TEXT[c["start"] : c["end"]] == c["text"]

    async def run():
        flowing = await engine.aquery(QUESTIONS[1])
        return [p async for p in flowing.async_response_gen()], flowing.metadata

    pieces, meta = asyncio.run(run())
    assert len(pieces) > 3 and meta["mode"] == "generated:smollm2"
    assert_streamed_as_checked("".join(pieces), meta)


def _markers(text: str) -> set[int]:
    return {int(n) for n in re.findall(r"\[(\d+)\]", text)}


def _unmarked(text: str) -> str:
    return " ".join(re.sub(r"\s*\[\d+\]", "", text).split())


def assert_streamed_as_checked(streamed: str, meta: dict) -> None:
    """The streamed text is the model's, its [n] markers already in the final numbering; the
    support check may then cite a sentence the model left uncited, so the final answer (in the
    metadata) carries exactly the citations' markers and otherwise the same words."""
    final = meta["answer"].text
    cited = {c["n"] for c in meta["citations"]}
    assert _markers(final) == cited
    assert _markers(streamed) <= cited
    assert _unmarked(streamed) == _unmarked(final)
