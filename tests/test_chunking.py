"""The phrase chunker: early first phrase, whole sentences after, no cuts at abbreviations."""

from __future__ import annotations

from vistavox.pipelines.speech.chunking import PhraseChunker


def _stream(text: str, chunker: PhraseChunker | None = None, piece: int = 3) -> list[str]:
    chunker = chunker or PhraseChunker()
    phrases: list[str] = []
    for i in range(0, len(text), piece):
        phrases += chunker.feed(text[i : i + piece])
    return phrases + chunker.flush()


def test_sentences_come_out_whole_and_in_order():
    text = "Paris is the capital of France. It has about two million people! Want more?"
    assert _stream(text) == [
        "Paris is the capital of France.",
        "It has about two million people!",
        "Want more?",
    ]


def test_first_phrase_may_end_at_a_clause_but_later_ones_do_not():
    text = (
        "Well, the short answer is yes, of course, and here is why: it works, mostly. Then, more."
    )
    phrases = _stream(text)
    assert phrases[0] == "Well, the short answer is yes,"
    assert phrases[1] == "of course, and here is why: it works, mostly."
    assert phrases[2] == "Then, more."


def test_a_long_first_clause_is_cut_at_a_word_boundary():
    text = "There are approximately eight million people living in Paris today. Yes."
    phrases = _stream(text, PhraseChunker(first_max_words=6))
    assert phrases[0] == "There are approximately eight million people"
    assert phrases[1] == "living in Paris today."


def test_abbreviations_and_decimals_do_not_end_a_sentence():
    text = "Dr. Smith paid 3.5 dollars, e.g. a bargain. Done."
    assert _stream(text, PhraseChunker(first_min_words=99, first_max_words=0)) == [
        "Dr. Smith paid 3.5 dollars, e.g. a bargain.",
        "Done.",
    ]


def test_nothing_is_lost_or_duplicated():
    text = "One two three four, five six. Seven; eight nine ten eleven! Twelve"
    phrases = _stream(text, piece=1)
    assert " ".join(phrases).split() == text.split()


def test_reset_drops_pending_text():
    chunker = PhraseChunker()
    chunker.feed("This will be interrupted")
    chunker.reset()
    assert chunker.flush() == []


def test_no_phrase_grows_past_the_hard_limit():
    """A long reply without a full stop (the model's run-on sentence, a list) is still
    spoken in phrases of at most ``hard_max_words``: the voice keeps the memory of the
    longest phrase it ever said."""
    from vistavox.pipelines.speech.chunking import PhraseChunker

    chunker = PhraseChunker()
    reply = " ".join(f"item{i}" for i in range(100))
    phrases = [p for w in reply.split() for p in chunker.feed(w + " ")] + chunker.flush()
    assert " ".join(phrases).split() == reply.split()  # every word, in order
    assert max(len(p.split()) for p in phrases) <= chunker.hard_max_words
