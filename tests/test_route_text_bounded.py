"""Issue 13, finding 5: route text is matched in one pass (linear), with the same answers as the phrase regexes."""

from __future__ import annotations

import re
import time

from hypothesis import given, settings
from hypothesis import strategies as st

from tests.conftest import oral_order
from validator import check
from validator.normalise.route import _phrase_match
from validator.profile import default_profiles
from validator.textmatch import PhraseIndex

PROFILE = default_profiles().profiles[0]
PHRASES = [(p.pattern, r) for p, r in PROFILE.route_phrases]
TEXTS = [re.sub(r"\\(.)", r"\1", p.pattern.removeprefix("(?<![a-z])").removesuffix("(?![a-z])")) for p, _ in PROFILE.route_phrases]


def by_regex(text: str) -> str | None:
    for pattern, route in PROFILE.route_phrases:
        if pattern.search(text):
            return route
    return None


@settings(max_examples=300, deadline=None)
@given(st.lists(st.one_of(st.sampled_from(TEXTS), st.sampled_from([" ", "(", ")", ",", "x", "via", "1", "-", "pump"])), max_size=12))
def test_one_pass_answers_what_the_phrase_regexes_answer(parts: list[str]) -> None:
    text = "".join(parts)
    assert PROFILE.route_phrase_index is not None
    assert PROFILE.route_phrase_index.best(text) == by_regex(text)


def test_priority_and_whole_words() -> None:
    index = PhraseIndex([("intrathecal", "it"), ("oral", "po")])
    assert index.best("oral then intrathecal") == "it"  # listed first wins, wherever it is
    assert index.best("intrathecally or orally") is None  # whole words only
    assert index.best("(oral)") == "po"


def _seconds(match, text: str) -> float:
    started = time.process_time()
    assert match(text) is None
    return time.process_time() - started


def test_24000_bracket_groups_in_a_route_text_cost_one_pass_not_one_per_phrase() -> None:
    # a ratio against the phrase-by-phrase regex scan, in the same run (no wall-clock threshold)
    text = " (" * 24_000
    one_pass = min(_seconds(lambda t: _phrase_match(t, PROFILE), text) for _ in range(3))
    per_phrase = min(_seconds(by_regex, text) for _ in range(3))
    assert one_pass * 3 < per_phrase, f"one pass {one_pass:.3f} s vs {len(PHRASES)} regex scans {per_phrase:.3f} s"


def test_realistic_free_text_routes_still_read() -> None:
    order = oral_order(5)
    order["dosageInstruction"][0]["route"] = {"text": "Intrathecal via implanted pump"}
    assert "route-not-permitted" not in [f.rule for f in check(order, context_provider=lambda _o: None).findings]
