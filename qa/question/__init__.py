"""The question stage: what was asked, cleaned and made to stand alone.

clean.py       a question and a history cleaned and checked (malformed ones: one clear line)
language.py    the language a question is written in, when it is plainly not English
ask.py         the sentence of a question that asks, apart from the context before it
followup.py    follow-ups resolved without a model: pronouns, "and what about X?"
antecedents.py what "he", "she", "it", "they" and "there" stand for, from one earlier exchange
exchange.py    an earlier question and its answer, read for the question's frame
alignment.py   where a mention of an answer sits with respect to the question's words
pronouns.py    the pronouns a follow-up may hold; "it" and "there" that stand for nothing
mentions.py    the people, things, groups and places a text mentions, in order
names.py       the names of a text: runs of capitalised words, a title apart from its person
name_kinds.py  what kind a name is (person, place, organisation ...) and a person's gender
phrases.py     the noun phrases ("the balloon", "US officials") and times ("on Saturday")
mention.py     a mention: its text, where it is, its kind; ``norm`` to compare two
word_forms.py  a word's crude stem, and whether it is plural, possessive or capitalised
word_lists.py  the word lists mentions are typed by: titles, roles, places, speech verbs ...
condense.py    follow-ups rewritten into standalone questions by the model
asked.py       the question's words as an answer must match them (form words, "how often")
"""
