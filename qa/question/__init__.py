"""The question stage: what was asked, cleaned and made to stand alone.

clean.py       a question and a history cleaned and checked (malformed ones: one clear line)
followup.py    follow-ups resolved without a model: pronouns, "and what about X?"
condense.py    follow-ups rewritten into standalone questions by the model
asked.py       the question's words as an answer must match them (form words, "how often")
"""
