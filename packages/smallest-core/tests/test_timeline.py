from hypothesis import given
from hypothesis import strategies as st

from smallest_core import WordTimeline


@given(
    st.lists(
        st.tuples(st.text(" \t\n", max_size=3), st.text("abcXYZ.,$1é😀", min_size=1, max_size=6)),
        max_size=20,
    ),
    st.text(" \n", max_size=2),
)
def test_spaced_words_rebuild_the_text(pieces, tail):
    text = "".join(space + w for space, w in pieces) + tail
    tl = WordTimeline(24000)
    tl.add_text(text)
    rebuilt = "".join(tl.add_word("r", w, 0.0, 0.1).spaced for _, w in pieces)
    assert rebuilt + text[tl.consumed :] == text
    assert tl.all_words_received() == bool(text)


def test_offsets_come_from_audio_received_not_from_word_ends():
    tl = WordTimeline(1000)
    tl.add_text("a b c")
    assert tl.add_word("r1", "a", 0.0, 0.2).start == 0.0
    tl.add_audio("r1", 1500)  # 1.5 s, of which the last 1.3 s is silence after "a"
    second = tl.add_word("r2", "b", 0.05, 0.3)  # restarted clock
    assert (second.start, second.end) == (1.55, 1.8)
    tl.add_audio("r2", 500)
    third = tl.add_word("r3", "c", 2.1, 2.4)  # continuous clock: kept as is
    assert third.start == 2.1


def test_unknown_word_keeps_readable_spacing():
    tl = WordTimeline(1000)
    tl.add_text("one two")
    assert tl.add_word(None, "one", 0, 1).spaced == "one"
    assert tl.add_word(None, "2", 1, 2).spaced == " 2"
