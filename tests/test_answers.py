"""Extractive answers over the real seed index: three outcomes, focused answers, follow-ups."""

from __future__ import annotations

import io
import logging
import os
import time

import pytest
import reliability
from conftest import SEEDS, offered

from index.text import tokenize
from qa.answer.bridge import lead
from qa.answer.extract import (
    AnswerWeights,
    ScoredSentence,
    answer_kind,
    candidate_sentences,
    compose,
    draft,
    score_sentences,
)
from qa.answer.focus import FocusWeights, candidates, focus, segments
from qa.answer.headings import lead_ins
from qa.answer.phrase import PhraseRule, typed
from qa.errors import BadQuestionError
from qa.outcomes import NOT_IN_DOCUMENTS, NOT_SURE
from qa.question.clean import MAX_HISTORY_TURNS, clean_history
from qa.question.followup import entities, resolve
from qa.types import ANSWERED, REFUSED, UNCERTAIN, Passage, Span

SEED_FILE = next(iter(sorted(os.listdir(SEEDS))))
SEED_TEXT = (SEEDS / SEED_FILE).read_text(encoding="utf-8")


def turns(*pairs: str) -> list[dict]:
    """A history from alternating user and assistant texts."""
    return [{"role": ("user", "assistant")[i % 2], "content": t} for i, t in enumerate(pairs)]


def _passages(source: str, texts: list[str]) -> list[Passage]:
    """One passage per text, 100 characters apart, the first ranked best."""
    return [Passage(f"p{i}", source, 100 * i, 100 * i + len(t), t, 1.0 - i / 10, i)
            for i, t in enumerate(texts)]  # fmt: skip


def _marked(answer) -> list[str]:
    """The phrases an answer (or a draft) marks, in order."""
    return [p.text for c in answer.citations for p in c.phrases]


def assert_spans_exact(answer) -> None:
    """Every sentence and phrase is a span of the seed document, phrases inside their sentences."""
    for c in answer.citations:
        for span in (*c.sentences, *c.phrases):
            assert SEED_TEXT[span.start : span.end] == span.text
        for ph in c.phrases:
            assert any(s.start <= ph.start and ph.end <= s.end for s in c.sentences)


# --- three outcomes --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("question", "phrase"),
    [
        ("Who is the State Department spokesman?", "Ned Price"),
        # The reader marks the "since the US military shot down ... earlier this month" clause;
        # a "when" question's phrase that is no date gives way to the sentence's date.
        ("When did Blinken meet Wang Yi?", "Saturday"),
        pytest.param(
            "Which country is Wang expected to visit after the Munich conference?",
            "Russia",
            marks=pytest.mark.xfail(
                strict=True,
                reason=(
                    "a known miss of the reader (model card): reading the passage, general3 marks "
                    "'France and Italy' ('has already visited France and Italy this week and is "
                    "expected to visit Russia'), general4 the whole 'France and Italy this week "
                    "and is expected to visit Russia'"
                ),
            ),
        ),
    ],
)
def test_answer_leads_with_the_phrase_and_quotes_its_sentence(seed_engine, question, phrase):
    answer = seed_engine.ask(question)
    # Answered or "not sure" (where the calibrated boundary lies is not what this is about):
    # either way the documents' answer is shown first, the same text.
    assert offered(answer) and not answer.refused, (answer.status, answer.reply)
    assert_spans_exact(answer)
    marked = _marked(answer)
    assert marked == [phrase], marked
    # The marked phrase leads, then the whole sentence that holds it is quoted, cited [1].
    assert answer.text.startswith(f"{phrase} — "), answer.text
    body = answer.text.removeprefix(f"{phrase} — ")
    quoted = [s for s in answer.citations[0].sentences if body.startswith(f"{s.text} [1]")]
    assert quoted and phrase in quoted[0].text, answer.text
    expected = answer.text if answer.status == ANSWERED else f"{NOT_SURE} {answer.text}"
    assert answer.reply == expected
    d = answer.to_dict()
    assert (d["status"], d["text"], d["answer"]) == (answer.status, answer.text, answer.reply)
    assert d["citations"][0]["phrases"][0]["text"] == phrase


@pytest.mark.parametrize(
    ("question", "whole"),
    [
        ("Did Wang confirm the meeting with Blinken?", True),
        ("Why was Blinken's visit to Beijing called off?", True),
        ("How do I renew my driving licence?", True),
        ("Can I pay the fee online?", True),
        ("How was Blinken described throughout the meeting?", False),  # a quote answers it
        ("How long was the meeting between Blinken and Wang?", False),
        ("What role was Wang named to last month?", False),
        ("I need help with the loan simulator.", True),  # a request: about a topic
        ("Yeah, um, i'm looking for some help with a non-driver ID renewal.", True),
        ("Tell me about the on-site investigation", True),
        ("balloon altitude", False),  # a few words typed as a search: a phrase answers
        ("Which rider leads, the one from Lyon or the one from Nice?", False),
    ],
)
def test_which_questions_a_whole_sentence_answers(question, whole):
    from qa.question.asked import sentence_answers

    assert sentence_answers(question) is whole


@pytest.mark.parametrize(
    "question",
    [
        "Did Biden say he would apologize for shooting down the balloon?",
        "Did Wang confirm the meeting with Blinken?",
        "Why was Blinken's visit to Beijing called off?",
    ],
)
def test_a_yes_no_or_why_answer_is_the_sentence_that_says_it(seed_engine, question):
    """ "the wolf — Biden said ..." answered nothing: a yes/no question is answered by the sentence
    that says yes or no, a "why" question by the sentence that gives the reason, quoted first,
    and that whole sentence is the answer's phrase."""
    answer = seed_engine.ask(question)
    assert offered(answer) and not answer.refused, (answer.status, answer.reply)
    assert_spans_exact(answer)
    cited = answer.citations[0]
    assert len(cited.phrases) == 1 and cited.phrases[0] in cited.sentences, answer.text
    assert answer.text.startswith(f"{cited.phrases[0].text} [1]"), answer.text


def test_a_request_is_answered_by_its_sentence(seed_engine):
    """ "Tell me about the balloon." asks about a topic: at worst "not sure", and the whole
    sentence quoted first is its phrase."""
    answer = seed_engine.ask("Tell me about the balloon.")
    assert offered(answer) and not answer.refused, (answer.status, answer.reply)
    cited = answer.citations[0]
    assert len(cited.phrases) == 1 and cited.phrases[0] in cited.sentences, answer.text
    assert answer.text.startswith(f"{cited.phrases[0].text} [1]"), answer.text


@pytest.mark.parametrize(
    "question",
    [
        "I need information about the balloon.",
        "I have questions about the balloon.",
        "Hi, I wanted to know what happened to the balloon.",
    ],
)
def test_a_request_that_names_its_need_is_not_refused(seed_engine, question):
    """The words that say the asker wants to know ("need information about") are no topic a
    passage must hold: the balloon is, and the article is about it."""
    answer = seed_engine.ask(question)
    assert not answer.refused, answer.reply
    assert "balloon" in answer.text, answer.text


@pytest.mark.parametrize(
    "question", ["What is the boiling point of water at sea level?", "Who won the 2018 World Cup?"]
)
def test_clear_misses_are_refused(seed_engine, question):
    answer = seed_engine.ask(question)
    assert answer.status == REFUSED and answer.reason == "off-topic" and not answer.citations
    assert answer.reply == NOT_IN_DOCUMENTS and answer.text == ""
    assert answer.to_dict()["answer"] == NOT_IN_DOCUMENTS


def test_not_sure_offers_the_closest_passages_as_such(seed_engine):
    """A near miss (the balloon's altitude: the topic is there, the figure is not)."""
    answer = seed_engine.ask("At what altitude was the balloon flying when it was shot down?")
    assert answer.status == UNCERTAIN and answer.uncertain and not answer.refused
    # The body is the closest passages' sentences; the reply says they are a guess.
    assert answer.reply == f"{NOT_SURE} {answer.text}" and not answer.text.startswith(NOT_SURE)
    assert answer.citations and all(c.sentences for c in answer.citations)
    # A guess is offered as one: at most one phrase marked (the reader's span or the heuristic's),
    # and the text leads with it.
    marked = _marked(answer)
    assert len(marked) <= 1 and (not marked or answer.text.startswith(marked[0]))
    assert_spans_exact(answer)
    for c in answer.citations:
        assert f"[{c.n}]" in answer.text
    assert answer.to_dict()["status"] == "uncertain"
    assert answer.to_dict()["answer"].startswith(NOT_SURE)


def test_seed_unanswerable_questions_are_rarely_answered_with_confidence(seed_engine):
    from qa.evaluation.dataset import load_dataset

    items, _ = load_dataset(SEEDS.parent / "eval" / "seeds_qa.jsonl")
    answers = [seed_engine.ask(i.question) for i in items if not i.answerable]
    outcomes = [a.status for a in answers]
    # Near misses all (the article's topic, not the fact): at most one answered with confidence;
    # the rest refused or "not sure" with the closest passages. Refusals are for clear misses, so
    # only some of these are refused (measured: 4 of 11).
    assert len(outcomes) >= 8
    assert outcomes.count(ANSWERED) <= 1, outcomes
    assert outcomes.count(REFUSED) >= 0.25 * len(outcomes), outcomes
    for a in answers:
        if a.status == REFUSED:
            assert a.reply == NOT_IN_DOCUMENTS and not a.citations
        else:
            assert offered(a) and a.text in a.reply, (a.question, a.reply)


# --- asked words ---------------------------------------------------------------------------


def test_form_words_do_not_count_and_how_often_asks_for_a_number():
    from qa.question.asked import NUMBER_WORD, asked_weights, covered

    raw = {"often": 3.0, "must": 3.0, "machin": 1.0, "descal": 1.0}
    w = asked_weights(raw, "How often must the machine be descaled?")
    assert set(w) == {"machin", "descal", f"{NUMBER_WORD}:often"}
    assert w[f"{NUMBER_WORD}:often"] == 1.0  # the mean asked word
    assert covered(w, "The machine must be descaled every 6 weeks.") == 1.0
    assert covered(w, "It is descaled for several days.") == 1 / 3  # a span, not a frequency
    assert covered(w, "The machine is descaled twice a year.") == 1.0
    assert covered(w, "The machine must be descaled with care.") == 2 / 3  # no number: no answer
    me = asked_weights(
        {"i": 2.0, "my": 2.0, "sick": 3.0, "holiday": 3.0}, "Am I sick on my holiday?"
    )
    assert set(me) == {"sick", "holiday"}
    assert asked_weights({"my": 2.0}, "My?") == {"my": 2.0}  # nothing left: kept as it was


@pytest.mark.parametrize(
    ("question", "words", "phrase"),
    [
        ("How often must the machine be descaled?", "descaled every 6 weeks", "6 weeks"),
        ("How long did the balloon fly over the US?", "flew over the US for several days",
         "several days"),
    ],
)  # fmt: skip
def test_how_questions_are_answered_from_the_sentence_with_the_number(
    make_settings, tmp_path, embedder, question, words, phrase
):
    from index.ingest import ingest
    from qa.engine import Engine

    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "manual.txt").write_text(
        "The Lumen machine must be descaled every 6 weeks using the Lumen descaling solution. "
        "The warranty on the machine lasts three years, but it is void if it was descaled with "
        "vinegar.\n\nThe surveillance balloon flew over the US for several days before it was "
        "shot down off the coast of South Carolina."
    )
    settings = make_settings(docs_dir=docs)
    ingest(settings.ingest_config, embedder=embedder)
    answer = Engine(settings).ask(question)
    assert offered(answer), answer.reply
    assert words in answer.text and words in answer.reply
    marked = _marked(answer)
    # The quantity is marked (the reader may take its preposition: "every 6 weeks")
    assert len(marked) == 1 and phrase in marked[0] and len(marked[0].split()) <= 4, answer.text
    assert answer.text.startswith(marked[0])  # the number first, then the sentence that holds it


def test_a_contents_entry_is_not_an_answer():
    """A PDF's table of contents ("3 Cleaning the filter … 12") names the topic, not the answer."""
    contents = "2 Setting up the pump … 4\n\n3 Cleaning the pump filter regularly … 12"
    body = "Rinse the filter under warm water every week. Replace it once a year."
    passages = [
        Passage("a", "manual.pdf", 0, len(contents), contents, 1.0, 1),
        Passage("b", "manual.pdf", 500, 500 + len(body), body, 0.9, 2),
    ]
    weights = {"clean": 2.0, "filter": 2.0, "pump": 1.0, "regular": 1.5}
    best = score_sentences("How do I clean the pump filter regularly?", passages, weights)[0]
    assert best.span.text == "Rinse the filter under warm water every week."


PAGE = (
    "Benefits Planner: Retirement | Getting Benefits While Working | Social Security\n\n"
    "Getting Benefits While Working\n"
    "You can work while you receive retirement or survivors benefits. Each year we review the "
    "records of all working recipients.\n\n"
    "How Much Can I Earn And Still Get Benefits?\n"
    "If you are younger than full retirement age and make more than the yearly earnings limit, "
    "your earnings may reduce your benefit amount.\n"
)


@pytest.mark.parametrize(
    ("question", "answer"),
    [
        ("Can I get benefits while working?", "You can work while you receive"),
        ("How much can I earn and still get benefits?", "If you are younger than full"),
    ],
)
def test_a_heading_is_not_the_answer_the_sentence_under_it_is(question, answer):
    """A page's title, a section heading and an FAQ's question hold the question's words better
    than any sentence and answer nothing: the sentence under them does, and reads their words."""
    page = Passage("a", "ssa.txt", 0, len(PAGE), PAGE, 1.0, 1, title=PAGE.split("\n")[0])
    weights = {t: 1.0 for t in tokenize(question)}
    best = score_sentences(question, [page], weights)[0]
    assert best.span.text.startswith(answer), best.span.text
    title, section, _, _, faq, body = (s for _, s in candidate_sentences([page]))
    leads = lead_ins(candidate_sentences([page]))
    assert leads.headings == {0, 1, 4}  # the title, the section heading, the question
    assert leads.under == {2: section.text, 5: faq.text}  # the title lends its words to none
    assert title.text.startswith("Benefits Planner") and body.text.startswith("If you are")


def test_a_list_a_table_row_or_a_sentence_is_no_heading():
    text = (
        "Opening hours\nWe open at nine every day.\nDay | Open | Close\nMonday | 9:00 | 17:00\n"
        "What to bring\nA helmet\nWater and food\nWe close on holidays.\nEnd"
    )
    p = Passage("a", "shop.txt", 0, len(text), text, 1.0, 1)
    cands = candidate_sentences([p])
    assert [s.text for _, s in cands][5:7] == ["A helmet", "Water and food"]
    leads = lead_ins(cands)
    # "Opening hours" heads prose; a list's items (and the line over them) head no prose, or
    # follow one of their like; rows and full sentences are no headings
    assert leads.headings == {0}
    assert leads.under == {1: "Opening hours"}
    # a document titled by its first line, a sentence: that sentence is no heading
    first = "Loans are repaid monthly.\nThe rate is fixed.\n"
    titled = Passage(
        "c", "loan.txt", 0, len(first), first, 1.0, 1, title="Loans are repaid monthly."
    )
    assert lead_ins(candidate_sentences([titled])).headings == frozenset()
    # a passage cut mid-document: its first line may be the tail of a sentence, not a heading
    tail = Passage("b", "shop.txt", 40, 40 + len(text), text, 1.0, 1)
    assert lead_ins(candidate_sentences([tail])).headings == frozenset()


# --- focus: pure logic -----------------------------------------------------------------------


def test_segments_keep_numbers_and_strip_edges():
    s = 'In 1066, "William" paid 1,000 marks (in silver): 10:30 — he left.'
    assert [s[a:b] for a, b in segments(s)] == [
        "In 1066",
        'William" paid 1,000 marks',
        "in silver",
        "10:30",
        "he left",
    ]


def test_candidates_of_each_kind_leave_out_the_question_words():
    s = "Blinken met Wang Yi on Saturday, February 18, 2023, in Munich for 60 minutes."
    q = "When did Blinken meet Wang Yi?"
    assert [s[a:b] for a, b in candidates("time", s, q)] == ["Saturday", "February 18, 2023"]
    assert "60 minutes" in [s[a:b] for a, b in candidates("number", s, "How long?")]
    names = [s[a:b] for a, b in candidates("name", s, "Who did Blinken meet?")]
    assert "Wang Yi" in names and "Blinken" not in names


def test_dates_as_contracts_and_histories_write_them():
    q = "When does the agreement take effect?"
    for text, date in [
        ("made as of the 12th day of November, 2019, by", "12th day of November, 2019"),
        ("DATED MAY 20, 1992 BETWEEN", "MAY 20, 1992"),
        ("founded in the spring of 1329 by Tugh Temur", "spring of 1329"),
    ]:
        assert [text[a:b] for a, b in candidates("time", text, q)] == [date]


def test_a_number_takes_the_word_it_counts_not_a_function_word():
    q = "How many launches were successful?"
    for text, number in [
        ("Five of the remaining six were successful.", "Five"),
        ("between 62 and full retirement age", "62"),
        ("The Saturday ride is 60 km long.", "60 km"),
    ]:
        assert next(text[a:b] for a, b in candidates("number", text, q)) == number


def _span(text: str, part: str, at: int = 0) -> Span:
    start = text.index(part)
    return Span(at + start, at + start + len(part), part)


def test_a_when_question_is_answered_by_a_date_not_by_a_clause_that_holds_one():
    sentence = (
        "Blinken met Wang Yi on Saturday, in the first meeting since the US military shot down a "
        "suspected surveillance balloon earlier this month."
    )
    whole = Span(40, 40 + len(sentence), sentence)
    q = "When did Blinken meet Wang Yi?"
    weights = {"blinken": 1.0, "meet": 1.0, "wang": 1.0, "yi": 1.0}
    clause = _span(sentence, "since the US military shot down a suspected surveillance balloon "
                   "earlier this month", 40)  # fmt: skip
    rule = PhraseRule()
    assert typed(q, "time", whole, clause, weights, rule) == _span(sentence, "Saturday", 40)
    # a phrase that is a date, or a question that asks for no date, keeps the reader's phrase
    day = _span(sentence, "on Saturday", 40)
    assert typed(q, "time", whole, day, weights, rule) == day
    assert typed("Why did they meet?", None, whole, clause, weights, rule) == clause
    assert typed(q, "time", whole, clause, weights, PhraseRule(typed=frozenset())) == clause


def test_the_sentence_read_alone_gives_the_phrase_unless_a_name_lies_nearer():
    """Where the reader's passage span lies outside the quoted sentence, its reading of that
    sentence alone gives the phrase (``spot``, here a fixed reading: the rule is under test),
    before the heuristic's; for a "who" question, not when the heuristic's name lies nearer the
    question's words."""
    text = (
        "In Munich, Blinken raised the balloon over the United States at length, the State "
        "Department spokesman Ned Price said in a statement."
    )
    passage = Passage("p", "news.txt", 0, len(text), text, 1.0, 0)
    blinken = (text.index("Blinken"), text.index("Blinken") + len("Blinken"))

    def marked(q: str, rule: PhraseRule) -> list[str]:
        weights = {w: 1.0 for w in q.lower().rstrip("?").split()[2:]}
        aw = AnswerWeights(phrase=rule)
        d = draft(q, [passage], weights, 1, aw, spot=lambda sentence: blinken)
        return _marked(d)

    who = "Who is the State Department spokesman?"
    assert marked(who, PhraseRule()) == ["Ned Price"]
    assert marked(who, PhraseRule(spot_nearer=frozenset())) == ["Blinken"]
    assert marked("What did the spokesman say in Munich?", PhraseRule()) == ["Blinken"]
    # the heuristic first, the sentence read alone only where it marks nothing
    assert marked(who, PhraseRule(spot_first=False)) == ["Ned Price"]


@pytest.mark.parametrize(
    ("question", "pair"),
    [
        ("Which dog is a giant breed, the Leonberger or the Basset Hound?",
         ("Leonberger", "Basset Hound")),
        ("Which of these battles occurred earlier--the Battle of Peleliu or the Battle of Belleau "
         "Wood?", ("Battle of Peleliu", "Battle of Belleau Wood")),
        ("Who was born first Am Rong or Ava DuVernay ?", ("Am Rong", "Ava DuVernay")),
        ("who is younger Keith Bostic or Jerry Glanville ?", ("Keith Bostic", "Jerry Glanville")),
        ("In between Liberty and MIT Technology Review which has a circulation of over 200,000?",
         ("Liberty", "MIT Technology Review")),
        ("In which genus are there more species, Lavatera or Oplismenus?",
         ("Lavatera", "Oplismenus")),
        ("What did Biden or Xi say?", None),  # "Xi say" is no name
        ("Is the Leonberger or the Basset Hound larger?", None),  # yes/no opening: not a choice
        ("What drugs are used to control the disease or to provide palliative care?", None),
        ("What audit or inspection rights does the Supply Agreement give?", None),
        ("Which ride is longer, the one on Saturday or the one that starts at the harbour and "
         "follows the coast road all the way?", None),  # a clause, not a thing chosen
    ],
)  # fmt: skip
def test_a_question_that_names_two_choices(question, pair):
    from qa.question.asked import options

    assert options(question) == pair


def test_a_choice_question_is_answered_by_the_choice_the_sentence_names():
    """ "Which is traditionally drunk before bed, Hot toddy or Kir?" marked the clause around
    the drink, not the drink: the phrase is the option the quoted sentence names (the one the
    reader's span overlaps when it names both)."""
    from qa.answer.phrase import option

    text = "A hot toddy is traditionally drunk before retiring for the night, unlike kir."
    passage = Passage("p", "drinks.txt", 10, 10 + len(text), text, 1.0, 0)
    q = "Which is traditionally drunk before retiring to bed, Hot toddy or Kir?"
    weights = {"traditionally": 2.0, "drunk": 2.0, "retiring": 2.0, "bed": 1.0}
    d = draft(q, [passage], weights, 1)
    assert _marked(d) == ["hot toddy"]
    assert d.text == f"{text} [1]"  # it stands among the first words: not put before them
    sentence = Span(10, 10 + len(text), text)
    kir = Span(10 + text.index("kir"), 10 + text.index("kir") + 3, "kir")
    assert option(("Hot toddy", "Kir"), sentence, kir) == kir  # the reader's pick, of the two
    assert option(("Hot toddy", "Kir"), sentence, None).text == "hot toddy"  # else the first
    assert option(("Mulled wine", "Grog"), sentence, None) is None


def test_an_option_is_found_with_the_middle_names_a_text_gives_it():
    """ "Who is older, Ferdi Taygan or Mahesh Bhupathi?" over "Mahesh Shrinivas Bhupathi (born 7
    June 1974)": the option is named there, its middle name inside; the phrase is the name as the
    text writes it."""
    from qa.answer.phrase import named_at

    texts = [
        "Mahesh Shrinivas Bhupathi (born 7 June 1974) is a retired Indian tennis player.",
        "Ferdi Taygan (born December 5, 1956) is a former American tennis player.",
    ]
    passages = _passages("tennis.txt", texts)
    weights = {"ferdi": 3.0, "taygan": 3.0, "mahesh": 3.0, "bhupathi": 3.0, "older": 1.0}
    d = draft("Who is older, Ferdi Taygan or Mahesh Bhupathi?", passages, weights, 2)
    assert _marked(d) == ["Ferdi Taygan"]
    assert [c.passage.id for c in d.citations] == ["p1", "p0"]  # the earlier birth first
    younger = draft("Who is younger, Ferdi Taygan or Mahesh Bhupathi?", passages, weights, 2)
    assert _marked(younger) == ["Mahesh Shrinivas Bhupathi"]
    # Capitalised words only, and a one-word name is matched as written.
    assert named_at("Mahesh Bhupathi", "Mahesh and his friend Bhupathi") is None
    assert named_at("Bhupathi", texts[0]) == (17, 25)


def test_a_choice_in_count_is_answered_by_the_counts_the_documents_give():
    """ "Which genus has more species, A or B?" is answered by the option whose sentence counts
    more of them ("about 66 species" over "two species"), quoted first, the other beside it;
    "fewer" the other way; a noun no sentence counts ("more often") compares nothing."""
    from qa.answer.compare import compare, counted

    texts = [
        "Xanthoceras is a genus of two species of flowering plants native to northern China.",
        "Ehretia is a genus of flowering plants in the borage family with about 66 species.",
    ]
    passages = _passages("plants.txt", texts)
    weights = {"genus": 1.0, "speci": 1.0, "xanthocera": 3.0, "ehretia": 3.0}
    q = "Which genus has more species, Xanthoceras or Ehretia?"
    d = draft(q, passages, weights, 2)
    assert _marked(d) == ["Ehretia"]
    assert [c.passage.id for c in d.citations] == ["p1", "p0"]  # the larger count first
    fewer = draft(q.replace("more", "fewer"), passages, weights, 2)
    assert _marked(fewer) == ["Xanthoceras"]
    assert counted("Who has released more studio albums, Kiss or Queen?") == ("album", 1)
    assert counted("Who was born first, Kiss or Queen?") is None
    assert compare("Which is published more often, Xanthoceras or Ehretia?", texts) is None


def test_a_choice_in_time_is_answered_by_the_dates_the_documents_give():
    """ "Which battle occurred earlier, A or B?" is answered by the option whose sentence gives the
    earlier year, quoted first, the other option's dated sentence beside it; "later" the other
    way; a death, or one undated option, compares nothing."""
    from qa.answer.compare import compare, direction

    texts = [
        "The Battle of Peleliu was fought from September to November 1944 in the Pacific.",
        "The Battle of Belleau Wood (1–26 June 1918) occurred near the Marne River in France.",
    ]
    passages = _passages("wars.txt", texts)
    weights = {"battl": 1.0, "peleliu": 3.0, "belleau": 3.0, "wood": 2.0, "occur": 1.0}
    q = "Which of these battles occurred earlier--the Battle of Peleliu or the Battle of Belleau Wood?"
    d = draft(q, passages, weights, 2)
    assert _marked(d) == ["Battle of Belleau Wood"]
    assert [c.passage.id for c in d.citations] == ["p1", "p0"]  # the earlier one's date first
    assert d.text.startswith("The Battle of Belleau Wood (1–26 June 1918)"), d.text
    later = q.replace("earlier", "later")
    assert _marked(draft(later, passages, weights, 2)) == ["Battle of Peleliu"]
    assert direction("Who died first, A or B?") is None
    assert direction("Who was born first, A or B?") == -1 and direction("Who is younger?") == 1
    scored = [s.span.text for s in score_sentences(q, passages[:1], weights)]
    assert compare(q, scored) is None  # Belleau Wood undated here: nothing compared


def _titled(*docs: tuple[str, str]) -> list[Passage]:
    """One passage per (title, text), each its own document, the first ranked best."""
    return [Passage(f"p{i}", f"{title}.txt", 0, len(t), t, 1.0 - i / 10, i, title=title)
            for i, (title, t) in enumerate(docs)]  # fmt: skip


def test_a_two_hop_question_is_answered_by_the_document_its_best_sentence_names():
    """The best sentence holds most of the question's words but names the document that answers
    ("... by Hunter Davies"): that document's sentence holding the asked words the first lacks
    ("born") leads, the first beside it, quoted second; not when the question itself names
    that document, nor when the best passage does not name it, nor for a choice."""
    film = ("Here We Go Round the Mulberry Bush is a 1967 British film made based on the novel "
            "of the same name by Hunter Davies.")  # fmt: skip
    author = "Hunter Davies (born 7 January 1936) is a British author, journalist and broadcaster."
    passages = _titled(("Here We Go Round the Mulberry Bush", film), ("Hunter Davies", author))
    weights = {"british": 1.0, "author": 1.5, "novel": 1.5, "mulberri": 3.0, "bush": 2.5,
               "round": 1.0, "base": 1.0, "born": 1.5, "wrote": 1.0}  # fmt: skip
    q = ('When was the British author who wrote the novel on which "Here We Go Round the '
         'Mulberry Bush" was based born?')  # fmt: skip
    plain = score_sentences(q, passages, weights)
    assert plain[0].passage.id == "p0"  # the film's sentence scores best: the first hop
    d = draft(q, passages, weights, 2)
    assert [c.passage.id for c in d.citations] == ["p1", "p0"], d.text
    assert d.text.startswith("7 January 1936 — Hunter Davies (born 7 January 1936)"), d.text
    assert _marked(d) == ["7 January 1936"] and d.text.endswith("by Hunter Davies. [2]")
    # Not a hop: the best passage names no other document ...
    unnamed = _titled(("Here We Go Round the Mulberry Bush", film.replace("Hunter Davies", "a "
                       "young writer")), ("Hunter Davies", author))  # fmt: skip
    assert lead(q, score_sentences(q, unnamed, weights), weights)[0].passage.id == "p0"
    # ... nor to a document the question names itself.
    named = q.replace("the British author", "hunter davies, the British author,")
    assert lead(named, plain, weights) == plain  # however the question writes it
    # ... nor for a choice: one of its options answers it, not a third document.
    choice = "Which British novelist was born earlier, Margaret Forster or Tom Stoppard?"
    assert lead(choice, plain, weights) == plain


def _asked(question: str) -> dict[str, float]:
    """The question's words as the engine weighs them (every one alike here)."""
    from index.text import tokenize

    return dict.fromkeys(tokenize(question), 1.0)


def test_a_yes_no_question_about_two_named_things_is_answered_yes_or_no():
    """ "Are A and B both ...?" reads each one's document: every asked word in both, yes; in one
    and not the other, no; "the same nationality" compares the nationalities their opening
    sentences give ("different" the other way round); an American band is from the United States.
    The verdict leads, then each one's sentence, in the question's order; anything else (a
    relation, one named thing, evidence that settles nothing) is left to the answering
    sentence."""
    verdi = "Giuseppe Verdi (1813 – 1901) was an Italian opera composer."
    thomas = "Ambroise Thomas (1811 – 1896) was a French composer, best known for his operas."
    jordan = "Neil Jordan (born 1950) is an Irish film director and novelist."
    mcbride = "Jim McBride (born 1941) is an American television and film director."
    composers = _titled(("Ambroise Thomas", thomas), ("Giuseppe Verdi", verdi))
    q = "Are Giuseppe Verdi and Ambroise Thomas both opera composers?"
    d = draft(q, composers, _asked(q), 2)
    assert d.verdict is True and d.phrase == "Yes", d.text
    assert d.text == f"Yes — {verdi} [1] {thomas} [2]"  # in the question's order
    directors = _titled(("Jim McBride", mcbride), ("Neil Jordan", jordan))
    q = "Are both Jim McBride and Neil Jordan American?"
    d = draft(q, directors, _asked(q), 2)
    assert (d.verdict, d.phrase) == (False, "No") and d.text.startswith(f"No — {mcbride} [1]")
    q = "Were Jim McBride and Neil Jordan of the same nationality?"
    assert draft(q, directors, _asked(q), 2).verdict is False
    q = "Are Jim McBride and Neil Jordan of different nationalities?"
    assert draft(q, directors, _asked(q), 2).verdict is True
    bands = _titled(("Local H", "Local H is an American rock band from Zion, Illinois."),
                    ("OK Go", "OK Go is an American rock band from Chicago."))  # fmt: skip
    q = "Are Local H and OK Go both from the United States?"
    assert draft(q, bands, _asked(q), 2).verdict is True
    # Left to the answering sentence: a relation, one named thing, evidence that settles nothing.
    for q in ("Did Jim McBride meet Neil Jordan?", "Is Neil Jordan a novelist?",
              "Are Jim McBride and Neil Jordan both television novelists?",  # half each
              "Were Jim McBride and Neil Jordan born in the same city?"):  # fmt: skip
        d = draft(q, directors, _asked(q), 2)
        assert d.verdict is None and not d.text.startswith(("Yes", "No")), (q, d.text)


def test_a_capital_by_position_is_not_a_name_and_who_asks_for_a_new_name():
    s = "However, at the Munich Security Conference, Blinken met Wang Yi on Saturday."
    names = [s[a:b] for a, b in candidates("name", s, "Who did Blinken meet in Munich?")]
    assert names == ["Wang Yi"]  # not "However", not the conference the question names
    putin = "Putin extended an invitation to Xi."
    assert next(putin[a:b] for a, b in candidates("entity", putin, "Which leader?")) == "Putin"
    two = "Two tourist railways operate in the Alps."
    assert [two[a:b] for a, b in candidates("place", two, "Where?")] == ["Alps"]
    # "Who is X?" asks for a description of X, not for another name.
    assert answer_kind("Who is Wang Yi?") is None
    assert answer_kind("Who is the president of France?") == "name"
    assert answer_kind("Who did Blinken meet?") == "name"


def test_a_relative_clause_keeps_the_one_it_tells_about():
    sentence = (
        "Blinken, who reiterated on Saturday the unchanged US policy on Taiwan and stressed the "
        "importance of maintaining peace and stability on the island, reinforced statements from "
        "Biden that the US does not seek a conflict with China but will stand up for its values."
    )
    q = "What did Blinken say about Taiwan?"
    f = focus(sentence, q, {"taiwan": 2.0, "blinken": 0.5}, answer_kind(q), FocusWeights(20, 0, 0))
    assert sentence[f.start : f.end].startswith("Blinken, who reiterated")


def test_a_long_sentence_is_quoted_whole_with_its_phrase_marked_and_first():
    sentence = (
        "After a long and difficult winter of negotiations between the two delegations, which "
        "met in several cities across the region, the treaty was finally signed in Vienna on "
        "12 March 1998, although several clauses were left for later talks between the parties."
    )
    q = "When was the treaty signed?"
    weights = {"treati": 2.0, "sign": 1.5}
    # Focus still finds the answering clause and the phrase inside it.
    f = focus(sentence, q, weights, answer_kind(q), FocusWeights(min_words=20, before=0, after=0))
    assert sentence[f.start : f.end] == "the treaty was finally signed in Vienna on 12 March 1998"
    assert [sentence[a:b] for a, b in f.phrases] == ["12 March 1998"]
    f = focus(sentence, q, weights, answer_kind(q))  # the tuned widths: the phrase is found
    assert [sentence[a:b] for a, b in f.phrases] == ["12 March 1998"]

    # The answer quotes the whole sentence (whole sentences hold the reference more often),
    # its phrase marked in document coordinates and put first.
    before = "The delegations met again in 1997. "
    text = before + sentence
    passage = Passage("p", "treaty.txt", 100, 100 + len(text), text, 1.0, 0)
    at = 100 + len(before)
    chosen = [ScoredSentence(passage, Span(at, at + len(sentence), sentence), 1.0, 1.0)]
    answer, citations = compose(chosen, q, weights)
    assert answer == f"12 March 1998 — {sentence} [1]"
    (c,) = citations
    assert [s.text for s in c.sentences] == [sentence]
    assert [(p.start - at, p.end - at, p.text) for p in c.phrases] == [
        (sentence.index("12 March"), sentence.index(", although"), "12 March 1998")
    ]
    # Cut to the clause (the former behaviour, kept as an option), the same phrase leads.
    cut = AnswerWeights(focus=FocusWeights(min_words=20, before=0, after=0), cut=True)
    answer, _ = compose(chosen, q, weights, cut)
    assert answer == "12 March 1998 — the treaty was finally signed in Vienna on 12 March 1998 [1]"
    short = "The treaty was signed in 1998."
    f = focus(short, q, weights, answer_kind(q))
    assert (f.start, f.end) == (0, len(short))  # short sentences stay whole


# --- follow-ups --------------------------------------------------------------------------------


def test_follow_up_resolution_rules():
    assert resolve("Where is he going next?", turns("Who is Wang Yi?", "…")) == (
        "Where is Wang Yi going next?"
    )
    assert resolve("And what about Taiwan?", turns("What did Blinken say about Russia?", "…")) == (
        "What did Blinken say about Taiwan?"
    )
    assert resolve("What did they discuss?", turns("When did Blinken and Wang meet?", "…")) == (
        "What did Blinken and Wang discuss?"
    )
    assert resolve("What happened there?", turns("Who did Blinken meet in Munich?", "…")) == (
        "What happened in Munich?"
    )
    # "he" after a who-question is the person the answer named.
    history = turns("Who did Blinken meet?", "Blinken met with China’s top diplomat Wang Yi [1]")
    assert resolve("What did he call the US response?", history) == (
        "What did Wang Yi call the US response?"
    )
    # Not a follow-up, or no history: unchanged.
    assert resolve("Who is the president of France?", turns("Who is Wang Yi?", "…")) == (
        "Who is the president of France?"
    )
    assert resolve("Where is he going next?", []) == "Where is he going next?"
    assert [
        e.text for e in entities("Who is Wang Yi? He spoke at the Munich Security Conference.")
    ] == [
        "Wang Yi",
        "Munich Security Conference",
    ]


@pytest.mark.parametrize(
    ("history", "question", "standalone", "expected"),
    [
        (("Who is Wang Yi?",), "Where is he going next?", "Where is Wang Yi going next?", None),
        (("Who is Wang Yi?",), "Where is he expected to go after Munich?", None, "Russia"),
        (("What did Blinken say about Russia?",), "And what about Taiwan?",
         "What did Blinken say about Taiwan?", "Taiwan"),
        (("Who did Blinken meet?", "China’s top diplomat Wang Yi [1]"),
         "What did he call the US response?", "What did Wang Yi call the US response?",
         "absurd and hysterical"),
        (("Who is the State Department spokesman?",), "And what did he say in the statement?",
         "What did the State Department spokesman say in the statement?", None),
    ],
)  # fmt: skip
def test_real_follow_ups_over_the_seed_article(
    seed_engine, history, question, standalone, expected
):
    first = seed_engine.ask(history[0])
    assert not first.refused
    reply = history[1] if len(history) > 1 else first.text
    answer = seed_engine.ask(question, turns(history[0], reply))
    if standalone:
        assert answer.standalone_question == standalone
    # A follow-up to an answered question is never refused outright.
    assert not answer.refused, answer.text
    if expected:
        assert expected in answer.text, answer.text
    assert_spans_exact(answer)


def test_follow_up_after_a_refusal_can_be_refused(seed_engine):
    refused = seed_engine.ask("Who won the 2018 World Cup?")
    assert refused.refused
    # The refusal as the chat keeps it: the reply shown, with its status.
    history = [
        {"role": "user", "content": refused.question},
        {"role": "assistant", "content": refused.reply, "status": refused.status},
    ]
    answer = seed_engine.ask("And who scored for them?", history)
    assert answer.refused and answer.reply == NOT_IN_DOCUMENTS, answer.reply


# --- malformed histories (issue 17: "a malformed chat history writes 66k log lines") -----------


@pytest.mark.parametrize(
    ("history", "words"),
    [
        ([("Who is Wang Yi?", "China's top diplomat")] * 66_000, "tuple"),
        ([{"role": "user", "content": ["line\n"] * 66_000}], "list content"),
        ([{"role": ["user"], "content": "x"}], "no role"),
        ("Who is Wang Yi?\n" * 66_000, "list of"),
        ([{"role": "user", "content": "Who is Wang Yi?"}, None], "NoneType"),
    ],
    ids=["pairs", "list-content", "bad-role", "string", "none-turn"],
)
def test_malformed_history_is_one_line_and_one_log_line_at_most(seed_engine, history, words):
    log, handler = logging.getLogger(), logging.StreamHandler(stream := io.StringIO())
    log.addHandler(handler)
    old = log.level
    log.setLevel(logging.DEBUG)
    t0 = time.perf_counter()
    try:
        with pytest.raises(BadQuestionError, match=words) as err:
            seed_engine.ask("And what did he say?", history)
    finally:
        log.removeHandler(handler)
        log.setLevel(old)
    assert "\n" not in str(err.value) and len(str(err.value)) < 300
    assert stream.getvalue().count("\n") <= 1
    assert time.perf_counter() - t0 < 5
    reliability.add("cases_tried", 1, "malformed chat history")
    reliability.add("cases_held", 1, "malformed chat history")


def test_long_histories_are_cut_not_refused(seed_engine):
    history = turns("Who is Wang Yi?", "China’s top diplomat. " * 5_000) * 20_000
    cleaned = clean_history(history)
    assert len(cleaned) == MAX_HISTORY_TURNS and all(len(t["content"]) <= 4000 for t in cleaned)
    # Other roles pass through a chat API: they are skipped, not errors.
    assert clean_history([{"role": "system", "content": "be brief"}, *turns("Hi?", "Hello")]) == (
        turns("Hi?", "Hello")
    )
    t0 = time.perf_counter()
    answer = seed_engine.ask("Where is he expected to go after Munich?", history)
    assert time.perf_counter() - t0 < 10
    assert "Russia" in answer.text
