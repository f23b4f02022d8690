"""Tests for smallest_core.segmenter.SentenceSegmenter."""

from __future__ import annotations

import time

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from smallest_core.segmenter import SentenceSegmenter


def segment(tokens: list[str], **kwargs: int) -> list[str]:
    seg = SentenceSegmenter(**kwargs)
    out: list[str] = []
    for token in tokens:
        out += seg.push(token)
    return out + seg.flush()


def one_shot(text: str, **kwargs: int) -> list[str]:
    return segment([text], **kwargs)


def check_all_tokenizations(text: str, expected: list[str], **kwargs: int) -> None:
    kwargs.setdefault("min_chars", 0)
    assert one_shot(text, **kwargs) == expected
    assert segment(list(text), **kwargs) == expected
    for cut in range(1, len(text)):
        assert segment([text[:cut], text[cut:]], **kwargs) == expected, cut
    for a in range(1, len(text), 3):
        for b in range(a + 1, len(text), 5):
            assert segment([text[:a], text[a:b], text[b:]], **kwargs) == expected, (a, b)


CASES: list[tuple[str, list[str]]] = [
    ("Hello world. How are you? I am fine!", ["Hello world. ", "How are you? ", "I am fine!"]),
    ("One.  Two.\tThree.", ["One.  ", "Two.\t", "Three."]),
    ("Wow!! Really?! Yes.", ["Wow!! ", "Really?! ", "Yes."]),
    ('He said "Hi." Then left.', ['He said "Hi." ', "Then left."]),
    ("(See above.) Next one.", ["(See above.) ", "Next one."]),
    ("Pi is 3.14 today. Next.", ["Pi is 3.14 today. ", "Next."]),
    ("We sold 1,000 units. Great.", ["We sold 1,000 units. ", "Great."]),
    ("Dr. Smith met Mr. and Mrs. Jones. Ok.", ["Dr. Smith met Mr. and Mrs. Jones. ", "Ok."]),
    (
        "Ms. Lee and Prof. Xu live on St. Mark. Bye.",
        ["Ms. Lee and Prof. Xu live on St. Mark. ", "Bye."],
    ),
    (
        "Martin Luther King Jr. Day and Sr. Ana. Ok.",
        ["Martin Luther King Jr. Day and Sr. Ana. ", "Ok."],
    ),
    ("Cats vs. Dogs is old. Yes.", ["Cats vs. Dogs is old. ", "Yes."]),
    (
        "Apples, pears, etc. are fruit. Etc. Fine.",
        ["Apples, pears, etc. are fruit. ", "Etc. ", "Fine."],
    ),
    ("I list etc. The end.", ["I list etc. ", "The end."]),
    ("Fruit, e.g. Apples and i.e. Pears. Ok.", ["Fruit, e.g. Apples and i.e. Pears. ", "Ok."]),
    ("At 5 p.m. Bob came at 9 a.m. Today. Ok.", ["At 5 p.m. Bob came at 9 a.m. Today. ", "Ok."]),
    ("The U.S. Army is here. Go.", ["The U.S. Army is here. ", "Go."]),
    ("J. K. Rowling wrote it. Yes.", ["J. K. Rowling wrote it. ", "Yes."]),
    (
        "Go to https://example.com/a.b?c=d now. Then stop.",
        ["Go to https://example.com/a.b?c=d now. ", "Then stop."],
    ),
    ("See www.example.com. It works.", ["See www.example.com. ", "It works."]),
    ("Mail john.doe@example.com. Thanks.", ["Mail john.doe@example.com. ", "Thanks."]),
    ("Open file.txt! Now.", ["Open file.txt! ", "Now."]),
    (
        "Wait... what is that? Hmm… fine. Well… No.",
        ["Wait... what is that? ", "Hmm… fine. ", "Well… ", "No."],
    ),
    ("Steps:\n1. Buy milk.\n2. Get eggs.\n", ["Steps:\n1. Buy milk.\n", "2. Get eggs.\n"]),
    ("1. First item. 2. Second.", ["1. First item. ", "2. ", "Second."]),
    ("I counted to 10. Then I stopped.", ["I counted to 10. ", "Then I stopped."]),
    ("Title\n\nBody text here\n \nMore", ["Title\n\n", "Body text here\n \n", "More"]),
    ("Line one\nline two", ["Line one\nline two"]),
    ("End with space. ", ["End with space. "]),
    ("  Leading space. Next.", ["  Leading space. ", "Next."]),
    ("no terminal at all", ["no terminal at all"]),
    ("你好。今天天气很好！我们走吧？好的", ["你好。", "今天天气很好！", "我们走吧？", "好的"]),
    ("他说：「你好。」然后走了。", ["他说：「你好。」", "然后走了。"]),
    ("こんにちは。 元気？", ["こんにちは。 ", "元気？"]),
    ("مرحبا بك؟ كيف حالك. شكرا!", ["مرحبا بك؟ ", "كيف حالك. ", "شكرا!"]),
    ("שלום. מה שלומך?", ["שלום. ", "מה שלומך?"]),
    ("यह अच्छा है। वह भी।", ["यह अच्छा है। ", "वह भी।"]),
    ("Great job! 🎉 Let's go. 👩‍👩‍👧 Family.", ["Great job! ", "🎉 Let's go. ", "👩‍👩‍👧 Family."]),
    ("Is it? yes it is.", ["Is it? ", "yes it is."]),
    ("", []),
    ("   ", ["   "]),
]


@pytest.mark.parametrize(("text", "expected"), CASES)
def test_table_all_tokenizations(text: str, expected: list[str]) -> None:
    check_all_tokenizations(text, expected)


def test_hold_back_terminal_until_next_character() -> None:
    seg = SentenceSegmenter(min_chars=0)
    assert seg.push("Hello.") == []
    assert seg.push(" ") == []
    assert seg.push("W") == ["Hello. "]
    assert seg.push("orld") == []
    assert seg.flush() == ["World"]


def test_abbreviation_decided_by_next_character() -> None:
    seg = SentenceSegmenter(min_chars=0)
    assert seg.push("I saw cats, dogs, etc. ") == []
    assert seg.push("and") == []
    assert seg.push(" more. ") == []
    assert seg.push("T") == ["I saw cats, dogs, etc. and more. "]


def test_flush_resets_context() -> None:
    seg = SentenceSegmenter(min_chars=0)
    assert seg.push("Hello.") == []
    assert seg.flush() == ["Hello."]
    assert seg.push("1. Item. X") == ["1. Item. "]  # "1." is again at the start of a line
    assert seg.flush() == ["X"]
    assert seg.flush() == []


def test_max_chars_prefers_clause_break() -> None:
    text = "alpha beta gamma, delta epsilon zeta eta theta iota"
    pieces = one_shot(text, max_chars=30, min_chars=0)
    assert pieces == ["alpha beta gamma, ", "delta epsilon zeta eta theta ", "iota"]


def test_max_chars_prefers_whitespace() -> None:
    pieces = one_shot("aaaa bbbb cccc dddd eeee", max_chars=12, min_chars=0)
    assert pieces == ["aaaa bbbb ", "cccc dddd ", "eeee"]


def test_max_chars_then_comma_then_hard_cut() -> None:
    assert one_shot("一二三，四五六七八九十", max_chars=6, min_chars=0) == [
        "一二三，",
        "四五六七八九",
        "十",
    ]
    assert one_shot("x" * 25, max_chars=10, min_chars=0) == ["x" * 10, "x" * 10, "x" * 5]
    # a thousands separator is not a split point
    assert one_shot("ab1,000cdefgh", max_chars=5, min_chars=0) == ["ab1,0", "00cde", "fgh"]


def test_hard_cut_keeps_combining_and_zwj_sequences() -> None:
    family = "👩\u200d👩\u200d👧"
    text = "a" * 3 + family + "b"
    pieces = one_shot(text, max_chars=6, min_chars=0)
    assert "".join(pieces) == text
    assert all(not p.startswith("\u200d") and not p.endswith("\u200d") for p in pieces)
    accented = "e\u0301" * 5
    assert all(not p.startswith("\u0301") for p in one_shot(accented, max_chars=3, min_chars=0))


def test_long_sentence_is_split_then_sentence_end_respected() -> None:
    text = "word " * 60 + "end. Next sentence."
    pieces = one_shot(text, min_chars=0)
    assert all(len(p) <= 250 for p in pieces)
    assert pieces[-1] == "Next sentence."
    assert pieces[-2].endswith("end. ")


def test_min_chars_merges_within_one_call_only() -> None:
    text = "Hi. I am Sam. This is long. X"
    assert one_shot(text) == ["Hi. I am Sam. This is long. ", "X"]
    assert one_shot(text, min_chars=5) == ["Hi. I am Sam. ", "This is long. ", "X"]
    assert one_shot(text, min_chars=0) == ["Hi. ", "I am Sam. ", "This is long. ", "X"]
    # the unterminated last sentence is not "in the buffer" as a sentence during push()
    assert one_shot("Hi. A longer sentence.") == ["Hi. ", "A longer sentence."]
    # token by token, nothing waits for a partner
    assert segment(list(text), min_chars=20) == ["Hi. ", "I am Sam. ", "This is long. ", "X"]
    assert one_shot("Hi. There. X", max_chars=8, min_chars=20) == ["Hi. ", "There. ", "X"]
    seg = SentenceSegmenter()
    assert seg.push("Hi. Yo") == ["Hi. "]
    assert seg.flush() == ["Yo"]


def test_invalid_arguments() -> None:
    with pytest.raises(ValueError):
        SentenceSegmenter(max_chars=0)
    with pytest.raises(ValueError):
        SentenceSegmenter(min_chars=-1)


def test_empty_tokens_ignored() -> None:
    seg = SentenceSegmenter()
    assert seg.push("") == []
    assert seg.flush() == []


def test_push_is_amortised_linear() -> None:
    tokens = [
        "Lorem",
        " ipsum",
        " dolor",
        " sit",
        " amet",
        ",",
        " 3.14",
        " e.g.",
        " x",
        ". ",
    ] * 4000
    tokens += [" " * 3] * 2000 + ["a" * 7] * 4000
    seg = SentenceSegmenter(max_chars=250)
    begin = time.perf_counter()
    out = [p for t in tokens for p in seg.push(t)] + seg.flush()
    elapsed = time.perf_counter() - begin
    assert "".join(out) == "".join(tokens)
    assert elapsed < 2.0
    big = SentenceSegmenter(max_chars=100_000, min_chars=0)
    begin = time.perf_counter()
    for _ in range(50_000):
        big.push("ab ")
    assert time.perf_counter() - begin < 2.0


# --------------------------------------------------------------------------- properties

ALPHABET = st.sampled_from(
    [
        *"aAbZz09 .,;:!?…\n\t\"')(」。！？؟।\u200d\u0301",
        *["e.g.", "Dr.", "...", "  ", "\r\n", "\n\n", "3.14", "1. ", "U.S.", "J. ", "😀", "你好"],
    ]
)
texts = st.lists(ALPHABET, max_size=80).map("".join)


@st.composite
def tokenized(draw: st.DrawFn) -> tuple[str, list[str]]:
    text = draw(texts)
    cuts = sorted(set(draw(st.lists(st.integers(0, max(len(text), 1)), max_size=12))))
    tokens, prev = [], 0
    for c in [*cuts, len(text)]:
        tokens.append(text[prev:c])
        prev = c
    return text, tokens


@settings(max_examples=400)
@given(tokenized(), st.integers(1, 40))
def test_property_tokenization_invariance(sample: tuple[str, list[str]], max_chars: int) -> None:
    text, tokens = sample
    expected = one_shot(text, max_chars=max_chars, min_chars=0)
    assert segment(tokens, max_chars=max_chars, min_chars=0) == expected


@settings(max_examples=400)
@given(tokenized(), st.integers(1, 60), st.integers(0, 30))
def test_property_invariants(sample: tuple[str, list[str]], max_chars: int, min_chars: int) -> None:
    text, tokens = sample
    pieces = segment(tokens, max_chars=max_chars, min_chars=min_chars)
    assert "".join(pieces) == text
    assert all(0 < len(p) <= max_chars for p in pieces)


@settings(max_examples=300)
@given(st.lists(st.text(max_size=20), max_size=20), st.integers(1, 300))
def test_property_arbitrary_unicode_never_crashes(tokens: list[str], max_chars: int) -> None:
    pieces = segment(tokens, max_chars=max_chars)
    assert "".join(pieces) == "".join(tokens)
    assert all(0 < len(p) <= max_chars for p in pieces)


@settings(max_examples=200)
@given(st.lists(st.sampled_from(["Hello there", "Dr.", "ok", "3.5", "you", "I"]), max_size=30))
def test_property_sentences_end_with_whitespace_and_next_starts_non_space(words: list[str]) -> None:
    text = "".join(w + ("." if i % 3 == 2 else "") + " " for i, w in enumerate(words))
    pieces = one_shot(text, min_chars=0)
    assert "".join(pieces) == text
    for piece in pieces[1:]:
        assert not piece[0].isspace()
