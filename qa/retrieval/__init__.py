"""The retrieval stage: the passages that may answer a question, ranked.

hybrid.py      a candidate pool (dense + BM25), fusion, one hop of title links
"""
