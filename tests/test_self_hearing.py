"""Telling the assistant's own words, heard back through speakers, from the user's."""

from __future__ import annotations

import pytest

from vistavox.pipelines.speech.self_hearing import sounds_like_echo

REPLY = (
    "The ocean is a vast and mysterious world, teeming with life. "
    "The ocean covers about seventy one percent of the Earth's surface. "
    "Its deepest point, the Challenger Deep, is nearly eleven kilometres down. "
    "It plays a crucial role in absorbing heat."
)


@pytest.mark.parametrize(
    "heard",
    [
        "the Challenger Deep is nearly eleven kilometres down",
        "Its deepest point, the Challenger deep.",  # case and punctuation differ
        "covers about 71 percent of the earth's surface",  # a number written as digits
        "Earth's surface.",
        "teaming with",  # "teeming with", misheard
        # a long stretch, misheard in places
        "which covers about percent of the earth's atmosphere and its deepest point the "
        "challenge are deep is nearly eleven kilometres down",
        "The option is a bass",  # misheard, in a reply about the ocean
        "It's deep as point.",  # misheard, with words split and joined differently
        "It's Orbing.",  # "in absorbing" (the recogniser split the words differently)
        "its deepest point the challenger deep is nearly eleven kilometres",
        "...",  # no words: noise, never a request
        # misheard over a slow echo path, long words misspelt (seen live, taken for the user)
        "It's the most obvious world teaming with life.",
    ],
)
def test_the_assistants_own_recent_words_are_echo(heard):
    assert sounds_like_echo(heard, REPLY)


@pytest.mark.parametrize(
    "heard",
    [
        "Stop, wait a moment please.",
        "What about the deepest lake?",  # shares single words with the reply, not runs
        "No, tell me about the Earth's moon instead",
        "stop",
        "Stop there",
        "wait what",
        "Tell me more about the ocean's deepest lakes",  # long words of the reply's, not a run
        "Which creatures live in the coldest water?",
        # the user cut in after a stretch of echo: their words end the utterance
        "Its deepest point, the Challenger Deep, is nearly eleven. Stop, wait a moment please",
    ],
)
def test_the_users_words_over_the_reply_are_not_echo(heard):
    assert not sounds_like_echo(heard, REPLY)


def test_nothing_said_recently_means_it_is_the_user():
    assert not sounds_like_echo("the deepest point", "")


def test_the_assistants_words_before_the_users_are_taken_off():
    from vistavox.pipelines.speech.self_hearing import without_echo

    heard = "eleven kilometres down. Stop, wait a moment please."
    assert without_echo(heard, REPLY) == "Stop, wait a moment please."
    assert without_echo("Stop, wait a moment please.", REPLY) == "Stop, wait a moment please."
    # One shared word is not the assistant's voice.
    assert without_echo("The deepest lake?", REPLY) == "The deepest lake?"


def test_a_misheard_sentence_of_echo_before_the_users_words_is_taken_off():
    from vistavox.pipelines.speech.self_hearing import without_echo

    reply = "Once upon a time there was a brave knight. There were no dragons in the land."
    heard = "There were no theories. Stop. Wait a moment, please."
    assert without_echo(heard, reply) == "Stop. Wait a moment, please."
    # The echo misheard within the user's sentence ("dragon named" heard as "dragon name's").
    reply = "In the land of Eldrador, there was a brave dragon named Eira."
    heard = "Dragon name's a stop. Wait a moment, please."
    assert without_echo(heard, reply) == "Stop. Wait a moment, please."
    heard = "dragging named air stop. Wait a moment please."
    assert without_echo(heard, reply) == "Stop. Wait a moment please."
    # Only what the assistant was saying as the user cut in is looked for, misheard: the
    # user's own words may sound like something it said earlier.
    assert without_echo(heard, reply, last="Once upon a time,") == heard
    # The user's own sentence is kept even when it is all there is.
    assert without_echo("Stop.", reply) == "Stop."


def test_a_lone_long_word_like_the_replys_is_its_misheard_echo():
    from vistavox.pipelines.speech.self_hearing import is_misheard_reply_word

    # What was left of "The ocean is a bass and the steering" without its echoed start.
    assert is_misheard_reply_word("Steering.", REPLY)
    assert is_misheard_reply_word("kilometers", REPLY)
    # The user's short words and words unlike the reply's stay the user's.
    for heard in ("Stop.", "wait", "Enough!", "Thanks", "Stop there", "teeming with"):
        assert not is_misheard_reply_word(heard, REPLY), heard
