"""The documents folder (qa/folder.py) and the commands that change it: qa docs, qa rm."""

from __future__ import annotations

import json
import shutil

import pytest

from index.types import DocumentInfo
from qa.cli.main import main
from qa.errors import FolderError, NotIndexedError, QAError, UploadRejected
from qa.library.folder import Folder, remove_document
from tests.conftest import SEEDS

SEED = "000_d383e4b1c99cfec1.txt"


class _Index:
    """An index that only knows its document names, and records removals."""

    def __init__(self, *sources: str):
        self.sources, self.removed = list(sources), []

    def documents(self):
        return [DocumentInfo(s, "", 1, None, "indexed") for s in self.sources]

    def remove_document(self, source):
        self.sources.remove(source)
        self.removed.append(source)


# --- the folder ----------------------------------------------------------------------------------


def test_save_writes_atomically_and_says_what_it_did(tmp_path):
    folder = Folder(tmp_path / "docs", max_upload_bytes=100)
    upload = tmp_path / "upload"
    upload.write_text("first version")
    assert folder.save(upload, "notes.txt") == "new"  # the folder is created on first use
    assert folder.save(upload, "notes.txt") == "same"
    upload.write_text("second version")
    assert folder.save(upload, "notes.txt") == "changed"
    upload.write_text("second versioN")  # the same size, other bytes
    assert folder.save(upload, "notes.txt") == "changed"
    assert (folder.path / "notes.txt").read_text() == "second versioN"
    assert [p.name for p in folder.path.iterdir()] == ["notes.txt"]  # no .upload-*.part left


def test_save_refuses_empty_and_oversized_files_with_a_qa_error(tmp_path):
    folder = Folder(tmp_path / "docs", max_upload_bytes=1000)
    empty, big = tmp_path / "empty", tmp_path / "big"
    empty.write_bytes(b"")
    big.write_bytes(b"x" * 2500)
    with pytest.raises(UploadRejected, match=r"empty\.txt: the file is empty\."):
        folder.save(empty, "empty.txt")
    with pytest.raises(QAError, match=r"big\.txt: 2 KB is over the upload limit of 1 KB\."):
        folder.save(big, "big.txt")
    assert not folder.path.exists() or not any(folder.path.iterdir())


@pytest.mark.parametrize("source", ["../escape.txt", "/etc/passwd", "a/../../b.txt", "", "."])
def test_paths_outside_the_folder_are_refused(tmp_path, source):
    with pytest.raises(FolderError, match="outside the documents folder"):
        Folder(tmp_path).file(source)


def test_delete_removes_a_link_and_never_what_it_points_to(tmp_path):
    outside = tmp_path / "outside.txt"
    outside.write_text("keep me")
    docs = tmp_path / "docs"
    (docs / "sub").mkdir(parents=True)
    (docs / "sub" / "link.txt").symlink_to(outside)
    folder = Folder(docs)
    assert folder.delete("sub/link.txt") is True
    assert not (docs / "sub" / "link.txt").exists() and outside.read_text() == "keep me"
    assert folder.delete("sub/link.txt") is False  # already gone


def test_files_lists_supported_visible_documents_as_sources(tmp_path):
    for name in ["b.md", "a.TXT", "sub/c.pdf", "tool.exe", ".hidden.txt", ".git/d.txt", ".upload-x.part"]:  # fmt: skip
        path = tmp_path / name
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text("x")
    assert Folder(tmp_path).files() == ["a.TXT", "b.md", "sub/c.pdf"]
    assert Folder(tmp_path / "missing").files() == []


def test_remove_document_deletes_the_file_then_the_index_entry(tmp_path):
    (tmp_path / "a.txt").write_text("a")
    (tmp_path / "b.txt").write_text("b")
    index, folder = _Index("a.txt", "b.txt", "gone.txt"), Folder(tmp_path)
    assert remove_document(index, folder, "a.txt") is True
    assert not (tmp_path / "a.txt").exists() and index.removed == ["a.txt"]
    assert remove_document(index, folder, "b.txt", keep_file=True) is False
    assert (tmp_path / "b.txt").exists() and index.removed == ["a.txt", "b.txt"]
    assert remove_document(index, folder, "gone.txt") is False  # no file: the entry still goes
    with pytest.raises(NotIndexedError, match=r"not in the index \(already removed\?\)\.$"):
        remove_document(index, folder, "never.txt")  # neither indexed nor a file
    # A file of the folder that is not indexed (removed from the index before): "Delete file"
    # deletes it, and the index is left as it is.
    (tmp_path / "c.txt").write_text("c")
    assert remove_document(index, folder, "c.txt") is True
    assert not (tmp_path / "c.txt").exists() and index.removed == ["a.txt", "b.txt", "gone.txt"]
    # A source that names a path outside the folder is refused as such, never looked up there.
    with pytest.raises(FolderError, match="outside the documents folder"):
        remove_document(index, folder, "../../etc/passwd")
    with pytest.raises(NotIndexedError, match="not in the index"):
        remove_document(index, folder, "../../etc/passwd", keep_file=True)  # no file touched
    index.sources.append("notes/minutes.md")
    with pytest.raises(NotIndexedError, match=r"did you mean notes/minutes\.md\?"):
        remove_document(index, folder, "minutes.md")


def test_a_file_that_cannot_be_deleted_stays_indexed(tmp_path):
    (tmp_path / "odd.txt").mkdir()  # unlink() fails on a folder, as it would without permission
    index = _Index("odd.txt")
    with pytest.raises(FolderError, match=r"odd\.txt could not be deleted .*; it is still indexed"):
        remove_document(index, Folder(tmp_path), "odd.txt")
    assert index.sources == ["odd.txt"] and index.removed == []


# --- qa docs, qa rm ------------------------------------------------------------------------------


def test_qa_docs_lists_the_indexed_documents(seed_store, capsys):
    store = ["--store", str(seed_store.store_dir), "--docs", str(SEEDS)]
    assert main(["docs", *store]) == 0
    out = capsys.readouterr().out.splitlines()
    assert out[0].split() == ["SOURCE", "TITLE", "CHUNKS", "PAGES", "STATUS"]
    assert out[1].startswith(SEED) and out[1].split()[-2:] == ["-", "indexed"]
    assert out[-1].startswith("1 document, ") and out[-1].endswith(" chunks")
    assert main(["docs", "--json", *store]) == 0
    (doc,) = json.loads(capsys.readouterr().out)
    assert doc["source"] == SEED and doc["status"] == "indexed" and doc["chunks"] > 1
    assert set(doc) == {"source", "title", "chunks", "pages", "status"}


@pytest.mark.parametrize("command", ["docs", "rm"])
def test_help_shows_an_example(command, capsys):
    with pytest.raises(SystemExit) as exit_:
        main([command, "--help"])
    assert exit_.value.code == 0
    assert f"examples:\n  qa {command}" in capsys.readouterr().out


def test_qa_rm_removes_from_the_index_and_the_folder(make_settings, embedder, tmp_path, capsys):
    from index.ingest import ingest

    docs = tmp_path / "docs"
    shutil.copytree(SEEDS, docs)
    (docs / "notes").mkdir()
    (docs / "notes" / "bridge.md").write_text("The Vindrel bridge spans the Oska river.\n")
    settings = make_settings(docs_dir=docs)
    ingest(settings.ingest_config, embedder=embedder)
    where = ["--store", str(settings.store_dir), "--docs", str(docs)]

    assert main(["rm", "notes/bridge.md", *where]) == 0
    assert "Removed notes/bridge.md from the index and deleted" in capsys.readouterr().out
    assert not (docs / "notes" / "bridge.md").exists()

    assert main(["rm", SEED, "--keep-file", *where]) == 0
    assert "the file stays in" in capsys.readouterr().out
    assert (docs / SEED).exists()

    assert main(["docs", *where]) == 0
    out = capsys.readouterr().out
    assert "No documents are indexed" in out and f"Not indexed yet in {docs}: {SEED}." in out

    assert main(["rm", "bridge.md", *where]) == 1
    assert "error: bridge.md is not in the index" in capsys.readouterr().err
