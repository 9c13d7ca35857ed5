"""Conformance with urduhack's own normalization test cases (../shared/peer_tests/urduhack_cases.json).

Every case runs against our equivalent function. The few we deliberately do differently are
listed in DEVIATIONS with the reason; the test fails if a listed deviation starts passing (so
the list stays true) or if any other case fails.
"""

import json

import pytest

from etl.text.normalize import (
    compose,
    digit_space,
    latin_space,
    normalize_characters,
    parse_digits,
    punctuation_space,
    remove_diacritics,
)
from tests.support import ROOT

CASES = ROOT.parent / "shared" / "peer_tests" / "urduhack_cases.json"

EQUIVALENT = {
    "normalize_characters": normalize_characters,
    "normalize_combine_characters": compose,
    "punctuations_space": punctuation_space,
    "remove_diacritics": remove_diacritics,
    "replace_digits": parse_digits,
    "digits_space": digit_space,
    "english_characters_space": latin_space,
}

#: (suite, input) -> why our output differs from urduhack's expected one.
DEVIATIONS: dict[tuple[str, str], str] = {
    (
        "normalize_characters",
        "\ufeeb\ufeee\ufe8b\ufbaf",
    ): "urduhack folds the initial-form heh to ھ (do-chashmi), giving ھوئے; Urdu spells the word ہوئے "
    "with goal heh, which is what an Arabic heh at the start of a word stands for",
    (
        "normalize_characters",
        "\ufead\ufeeb\ufe98\ufbfd",
    ): "urduhack gives رھتی; after ر Urdu writes goal heh (رہتی, 'stays'), so an Arabic heh there is ہ",
}


def _cases():
    if not CASES.exists():
        return []
    suites = json.loads(CASES.read_text(encoding="utf-8"))["suites"]
    return [(name, c["input"], c["expected"]) for name, suite in suites.items() for c in suite["cases"]]


@pytest.fixture(scope="module", autouse=True)
def _require_cases():
    if not CASES.exists():
        pytest.skip(f"urduhack cases not found at {CASES}")


def test_every_suite_has_an_equivalent():
    suites = {name for name, _, _ in _cases()}
    assert suites <= set(EQUIVALENT), suites - set(EQUIVALENT)


@pytest.mark.parametrize(
    "suite, given, expected", _cases(), ids=lambda v: v if isinstance(v, str) and len(v) < 30 else None
)
def test_urduhack_case(suite, given, expected):
    got = EQUIVALENT[suite](given)
    if (suite, given) in DEVIATIONS:
        assert got != expected, f"listed deviation now conforms; remove it from DEVIATIONS: {suite} {given!r}"
    else:
        assert got == expected, f"{suite}: {given!r} -> {got!r}, urduhack expects {expected!r}"
