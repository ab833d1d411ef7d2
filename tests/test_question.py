"""The question stage: the ask apart from its preamble, the language, follow-ups and their status."""

from __future__ import annotations

import json

import pytest
from conftest import ROOT

from index.text import detect
from qa.errors import BadQuestionError
from qa.outcomes import NOT_IN_DOCUMENTS, NOT_SURE, reply
from qa.question.ask import split
from qa.question.asked import form_words
from qa.question.read import read


@pytest.mark.parametrize(
    ("text", "ask", "context"),
    [
        ("Who did Blinken meet?", "Who did Blinken meet?", ""),
        (
            "The CDC has issued a warning about a drug used on farm animals. "
            "What is ivermectin's intended use?",
            "What is ivermectin's intended use?",
            "The CDC has issued a warning about a drug used on farm animals.",
        ),
        (  # what follows the question sentence is context too
            "In a speech on Tuesday, the minister spoke at length. Which country did she name? "
            "Answer in one word.",
            "Which country did she name?",
            "In a speech on Tuesday, the minister spoke at length. Answer in one word.",
        ),
        (
            "Blinken met Wang in Munich. Name the conference.",
            "Name the conference.",
            "Blinken met Wang in Munich.",
        ),
        (  # no break after a title's abbreviation: one sentence, all of it the ask
            "When does the Agreement between VGrab Asia Ltd. and Mr. Gu Xianwin and Ms. Chen "
            "Weijie expire?",
            "When does the Agreement between VGrab Asia Ltd. and Mr. Gu Xianwin and Ms. Chen "
            "Weijie expire?",
            "",
        ),
        (
            "I met Dr. Smith yesterday. Who is he?",
            "Who is he?",
            "I met Dr. Smith yesterday.",
        ),
        # two statements and no question: all of it is the ask
        (
            "Tell me about the balloon. It was shot down.",
            "Tell me about the balloon. It was shot down.",
            "",
        ),
    ],
)
def test_the_ask_is_the_question_sentence(text, ask, context):
    parts = split(text)
    assert (parts.ask, parts.context) == (ask, context)


@pytest.mark.parametrize(
    ("text", "ask", "context"),
    [
        ("Hi there, who is the spokesman?", "who is the spokesman?", ""),
        ("Hello! Where did they meet? Thanks", "Where did they meet?", ""),
        ("Hey what is it?", "what is it?", ""),
        (
            "Good afternoon. I'd like info on forbearance, please.",
            "I'd like info on forbearance",
            "",
        ),
        (
            "Hi, good afternoon. The balloon was shot down. Who shot it? Thank you so much!",
            "Who shot it?",
            "The balloon was shot down.",
        ),
        # not courtesies: part of what is asked
        ("Hey Jude was written by whom?", "Hey Jude was written by whom?", ""),
        ("How do I say thank you", "How do I say thank you", ""),
        ("What does hi mean?", "What does hi mean?", ""),
        ("Hello?", "Hello?", ""),  # nothing else: asked as written
    ],
)
def test_greetings_and_thanks_are_neither_ask_nor_context(text, ask, context):
    parts = split(text)
    assert (parts.ask, parts.context) == (ask, context)


def test_a_greeting_does_not_turn_an_answer_into_a_guess(seed_engine):
    plain = seed_engine.verdict("Who is the State Department spokesman?")
    polite = seed_engine.verdict("Hi there, who is the State Department spokesman? Thanks!")
    assert polite.status == plain.status
    assert abs(polite.topic - plain.topic) < 0.05 and abs(polite.right - plain.right) < 0.05
    answer = seed_engine.ask("Hello! Who is the State Department spokesman?")
    assert answer.text.startswith("Ned Price")
    assert answer.standalone_question == answer.question  # no "Reading this as" for a greeting


@pytest.mark.parametrize(
    "question, shaping",
    [
        ("Where did the meeting take place?", {"take", "place"}),
        ("When will the talks take place?", {"take", "place"}),
        ("Where was the meeting held?", {"held"}),
        ("Where was the summit held this year?", set()),  # "held" away from its auxiliary
        ("Who held the record?", set()),  # "held" names the act asked about
        ("Which place did she take?", set()),  # "take" and "place" apart are words of the topic
    ],
)
def test_phrases_that_only_say_an_event_happened_are_not_asked_words(question, shaping):
    assert form_words(question) & {"take", "place", "held"} == shaping


@pytest.mark.parametrize(
    "question, shaping",
    [
        ("I need information about the balloon.", {"need", "information", "about"}),
        ("I have questions about the balloon.", {"have", "questions", "about"}),
        ("Hello, I just wanted to know what I need.", {"just", "wanted", "to", "know"}),
        ("Um, tell me about the talks.", {"tell", "about"}),
        ("Could you explain to me what the role is?", {"explain"}),
        ("I was wondering where I begin?", {"wondering"}),
        ("What is ivermectin actually meant for?", {"actually"}),
        ("What information is needed?", set()),  # the words, not the frame: the topic
        ("What did Blinken explain to Wang?", set()),  # what was explained is asked
        ("Did she tell him about the balloon?", set()),
    ],
)
def test_phrases_that_only_say_the_asker_wants_to_know_are_not_asked_words(question, shaping):
    frame = {"need", "information", "about", "have", "questions", "just", "wanted", "to", "know",
             "tell", "explain", "wondering", "actually"}  # fmt: skip
    assert form_words(question) & frame == shaping


def test_a_vague_question_about_the_article_is_not_refused(seed_engine):
    # The seed article reports one meeting; "take place" is no topic of a document.
    for question in ("Where did the meeting take place?", "Where was the meeting held?"):
        assert seed_engine.verdict(question).status != "refused", question


def test_languages_are_told_apart_from_english():
    rows = [json.loads(line) for line in (ROOT / "eval" / "multilingual_qa.jsonl").open()]
    assert len(rows) >= 30
    assert [detect(r["question"]) for r in rows] == [r["category"] for r in rows]
    english = [json.loads(line)["question"] for line in (ROOT / "eval" / "seeds_qa.jsonl").open()]
    english += ["Did the Tour de France pass through Paris?", "Who wrote La vie en rose?",
                "Where is El Paso?", "Who is Juan de la Cruz?"]  # fmt: skip
    assert [q for q in english if detect(q) != "en"] == []
    assert detect("I need help getting a N.Y. License") == "en"  # "y" alone is no Spanish
    assert detect("Кто встретился с Блинкеном?") == "ru"
    assert detect("ブリンケンは誰と会いましたか") == "ja"


def test_a_follow_up_to_a_refused_question_is_known_by_its_status_not_its_words():
    history = [
        {"role": "user", "content": "Who is Wang Yi?"},
        {
            "role": "assistant",
            "content": "Wang Yi is China's top diplomat [1]",
            "status": "answered",
        },
    ]
    asked = read("Where is he going next?", history, 4000)
    assert asked.standalone != asked.question and asked.follows_answer
    refused = [history[0], {**history[1], "status": "refused"}]
    assert not read("Where is he going next?", refused, 4000).follows_answer
    # A reply without a status (as an OpenAI client sends the conversation back) counts as one.
    plain = [history[0], {"role": "assistant", "content": NOT_IN_DOCUMENTS}]
    assert read("Where is he going next?", plain, 4000).follows_answer
    # A status that is not one is dropped with the rest of the turn's checks, not trusted.
    odd = [history[0], {**history[1], "status": "maybe"}]
    assert "status" not in read("Where is he going next?", odd, 4000).history[1]


def test_a_dangling_pronoun_and_a_language_are_noted():
    asked = read("What did he say about the balloon?", None, 4000)
    assert asked.dangling and asked.language == "en"
    assert read("¿Qué dijo Blinken sobre el globo?", None, 4000).language == "es"


@pytest.mark.parametrize("bad", ["", "   ", "\x00\x01", None, 12, "x" * 5000])
def test_bad_questions_get_one_clear_line(bad):
    with pytest.raises(BadQuestionError) as e:
        read(bad, None, 4000)
    assert "\n" not in str(e.value) and len(str(e.value)) < 200


def test_the_outcome_is_phrased_at_the_surface_once():
    assert reply("answered", "confident", "Ned Price said so [1]") == "Ned Price said so [1]"
    assert reply("uncertain", "not-confident", "Maybe X [1]") == f"{NOT_SURE} Maybe X [1]"
    assert reply("refused", "off-topic", "") == NOT_IN_DOCUMENTS
    language = reply("refused", "language:es", "")
    assert "Spanish" in language and "QA_EMBEDDINGS=e5" in language
    assert NOT_IN_DOCUMENTS not in language
    # a model's own words stand as written, refusal or not
    assert reply("refused", "model", "The passages do not say.", generated=True) == (
        "The passages do not say."
    )


def test_typos_are_read_as_the_documents_words(seed_engine):
    from qa.question.spelling import corrections

    freq = seed_engine.corpus.frequencies
    assert corrections("Who did Blinkin meet on Saturday?", freq) == {"Blinkin": "Blinken"}
    assert corrections("What did Wang call the US responce?", freq) == {"responce": "response"}
    # A word the documents or the language know is left alone, and so are short words.
    assert corrections("Who is Natasha Bertrand?", freq) == {}
    assert corrections("What is a quasar? Was it cold?", freq) == {}
    # A word the documents spell the other English way is read as theirs ("apologize").
    assert corrections("Why would Biden not apologise?", freq) == {"apologise": "apologize"}
    assert corrections("Did he apologize? Is it the centre?", freq) == {}  # theirs, or unused
    from qa.question.spelling import other_spellings

    assert "traveled" in other_spellings("travelled") and "filed" not in other_spellings("filled")
    assert other_spellings("hour") == []  # a stem of fewer than three letters is no spelling
    answer = seed_engine.ask("Who did Blinkin meet on Saturday?")
    assert answer.standalone_question == "Who did Blinken meet on Saturday?"
    assert "Wang Yi" in answer.text
