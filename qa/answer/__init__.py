"""The answer stage: from ranked passages to an outcome and its text, with citations.

verdict.py     answered, not sure or refused: the one decision, from the evidence
extract.py     extractive answers: the best sentences, quoted as written, with [n]
focus.py       the clause of a long sentence that answers; the answer-bearing phrase
markers.py     the one [n] pattern; a model's markers checked and renumbered as it streams
prompting.py   passages fitted into the model's prompt as numbered, delimited data
generate.py    generated answers: prompt, stream, check
support.py     each generated sentence scored against the passages it cites
"""
