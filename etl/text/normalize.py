"""Unicode and Urdu character normalization of article text.

``normalize`` is the whole clean-up in one call; the steps are also public, one function per
rule, so each can be tested (and compared with other toolkits) on its own. Rule tables live
in ``rules/`` as data files.

Digit policy: the clean text writes every digit in ASCII (``۲۰`` and ``٢٠`` become ``20``);
the raw text keeps the digits as published. Both digit sets are accepted wherever numbers and
dates are parsed (``parse_digits``).
"""

from __future__ import annotations

import re
import unicodedata

from etl.text import rules

CODE_VERSION = "2.2.0"
#: Stored on every output row: the code version plus a digest of the rule tables.
NORMALIZER_VERSION = f"{CODE_VERSION}+{rules.RULES_VERSION}"

# Urdu/Arabic-script letters (no punctuation, digits or marks); ZWNJ counts as part of a word.
LETTERS = "\u0621-\u063a\u0641-\u064a\u066e\u066f\u0671-\u06d3\u06d5\u06ee\u06ef\u06fa-\u06ff"
_DIGIT_VALUES = {**{0x0660 + i: str(i) for i in range(10)}, **{0x06F0 + i: str(i) for i in range(10)}}


def _build_tables() -> tuple[dict[int, str | None], dict[int, str]]:
    """The full translate table and the letters-only one (presentation forms + Arabic letters)."""
    table: dict[int, str] = {}
    nfkc_ranges = []
    for cps, repl in rules.character_rules():
        if repl == "NFKC":
            nfkc_ranges.append(cps)
        else:
            table.update(dict.fromkeys(cps, repl))
    letters_only = {cp: v for cp, v in table.items() if 0x0621 <= cp <= 0x06FF and v and v.isalpha()}
    comps = rules.compositions()
    for cps in nfkc_ranges:
        for cp in cps:
            ch = chr(cp)
            folded = unicodedata.normalize("NFKC", ch)
            if folded == ch:
                continue
            folded = unicodedata.normalize("NFC", folded)
            for seq, composed in comps:
                folded = folded.replace(seq, composed)
            full = "".join(table.get(ord(c), c) for c in folded)
            table[cp] = full
            letters_only[cp] = "".join(letters_only.get(ord(c), c) for c in folded)
    return {cp: (v if v else None) for cp, v in table.items()}, letters_only


_TABLE, _LETTER_TABLE = _build_tables()


def _char_class(codepoints) -> str:
    """A regex character class body covering ``codepoints`` as ranges."""
    cps = sorted(set(codepoints))
    parts, start, prev = [], cps[0], cps[0]
    for cp in [*cps[1:], None]:
        if cp is not None and cp == prev + 1:
            prev = cp
            continue
        parts.append(re.escape(chr(start)) + ("" if start == prev else "-" + re.escape(chr(prev))))
        if cp is not None:
            start = prev = cp
    return "".join(parts)


# Runs of characters the table changes. Clean text has few, so translating only those runs is
# several times faster than translating the whole text.
_NEEDS_TRANSLATE = re.compile(f"[{_char_class(_TABLE)}]+")


def _translate(m: re.Match) -> str:
    return m.group(0).translate(_TABLE)


_DIACRITIC_TABLE = {
    cp: None for cps, repl in rules.character_rules() if repl == "" for cp in cps if 0x0610 <= cp <= 0x06ED
}

# Arabic heh (U+0647) is ھ (do-chashmi) after a consonant Urdu aspirates and before another
# letter (بهی -> بھی, پڑهنا -> پڑھنا); everywhere else it is ہ (goal heh): at the start of a word
# (هوئے -> ہوئے) and after ر, which Urdu writes with goal heh (رهتی -> رہتی).
_ASPIRATED_HEH = re.compile(rf"(?<=[بپتٹجچدڈڑکگلمن])\u0647(?=[{LETTERS}])")

# Spacing around Urdu punctuation: no space before ۔ ، ؟ ؛ ! ?, one after them before a letter.
_SPACE_BEFORE_PUNCT = re.compile(r" +(?=[۔،؟؛!?])")
_PUNCT_GLUED = re.compile(rf"[۔،؟؛!?]+(?=[{LETTERS}])")
_WORD_BEFORE = re.compile(rf"[{LETTERS}]+$")
_WORD_AFTER = re.compile(rf"[{LETTERS}]+")
# Digits and Latin letters written against Urdu letters get a space, except a year's ء and
# ordinal suffixes, which belong to their number (1990ء, 11ویں). The guard finds the rare
# texts that need it, so the lookaround pass runs only on those.
_MIXED_GUARD = re.compile(rf"[{LETTERS}][0-9A-Za-z]|[0-9A-Za-z][{LETTERS}]")
_DIGIT_LETTER = re.compile(rf"(?<=[0-9])(?=[{LETTERS}])(?!ء|ویں|واں)|(?<=[{LETTERS}])(?=[0-9])")
_LATIN_LETTER = re.compile(rf"(?<=[A-Za-z])(?=[{LETTERS}])|(?<=[{LETTERS}])(?=[A-Za-z])")
_MARKS = re.compile("[\u0653-\u0655]")
_H_SPACE = re.compile(r"[ \t]{2,}")
_EDGE_SPACE = re.compile(r" *\n *")
_MANY_NEWLINES = re.compile(r"\n{3,}")


def compose(text: str) -> str:
    """NFC, then base letter + mark sequences into precomposed letters (ا + ٓ -> آ, ی + ٔ -> ئ)."""
    if not unicodedata.is_normalized("NFC", text):
        text = unicodedata.normalize("NFC", text)
    if _MARKS.search(text):
        for seq, composed in rules.compositions():
            if seq in text:
                text = text.replace(seq, composed)
    return text


def _heh(text: str) -> str:
    if "\u0647" in text:
        text = _ASPIRATED_HEH.sub("\u06be", text).replace("\u0647", "\u06c1")
    return text


def normalize_characters(text: str) -> str:
    """Fold Arabic presentation forms and Arabic letters to Urdu letters; nothing else changes."""
    return _heh(compose(text).translate(_LETTER_TABLE))


def remove_diacritics(text: str) -> str:
    """Drop diacritics (zabar, zer, pesh, tanwin, shadda ...) and Quranic marks."""
    return text.translate(_DIACRITIC_TABLE)


def parse_digits(text: str) -> str:
    """Rewrite Urdu (۰-۹) and Arabic-Indic (٠-٩) digits as ASCII, leaving everything else."""
    return text.translate(_DIGIT_VALUES)


def is_abbreviation(run: str) -> bool:
    """True for letter names joined by ۔ (پی۔ٹی۔آئی), whose ۔ are not full stops."""
    parts = run.split("۔")
    return len(parts) > 1 and all(p in rules.letter_names() for p in parts)


def _space_glued(m: re.Match) -> str:
    punct, text = m.group(0), m.string
    if punct == "۔":
        before = _WORD_BEFORE.search(text, max(0, m.start() - 12), m.start())
        after = _WORD_AFTER.match(text, m.end())
        if before and after and before.group(0) in rules.letter_names() and after.group(0) in rules.letter_names():
            return punct  # inside an abbreviation (پی۔ٹی۔آئی)
    return punct + " "


def punctuation_space(text: str) -> str:
    """No space before ۔ ، ؟ ؛ ! ? and one after them before a letter, except inside abbreviations."""
    if any(" " + p in text for p in "۔،؟؛!?"):
        text = _SPACE_BEFORE_PUNCT.sub("", text)
    return _PUNCT_GLUED.sub(_space_glued, text)


def digit_space(text: str) -> str:
    """Separate digits from Urdu letters written against them (20فیصد -> 20 فیصد), keeping 1990ء and 11ویں."""
    return _DIGIT_LETTER.sub(" ", text) if _MIXED_GUARD.search(text) else text


def latin_space(text: str) -> str:
    """Separate Latin letters from Urdu letters written against them (صوبےLahj -> صوبے Lahj)."""
    return _LATIN_LETTER.sub(" ", text) if _MIXED_GUARD.search(text) else text


def collapse_whitespace(text: str) -> str:
    """One space between words, no spaces at line edges, at most one blank line between paragraphs."""
    if "\r" in text:
        text = text.replace("\r\n", "\n").replace("\r", "\n")
    if "  " in text or "\t" in text:
        text = _H_SPACE.sub(" ", text)
    if "\n" in text:
        if " \n" in text or "\n " in text:
            text = _EDGE_SPACE.sub("\n", text)
        if "\n\n\n" in text:
            text = _MANY_NEWLINES.sub("\n\n", text)
    return text.strip()


def normalize(text: str) -> str:
    """Return the clean form of ``text``.

    NFC; compositions; presentation forms, Arabic letters, diacritics, invisible controls,
    odd spaces and digits through one translate table; heh by context; spacing around Urdu
    punctuation and between Urdu and digits or Latin letters; whitespace collapsed.
    Paragraph breaks (newlines) survive.
    """
    if not text:
        return ""
    return finish(prepare(text))


def prepare(text: str) -> str:
    """The character half of ``normalize``: NFC, compositions, the translate table, heh."""
    return _heh(_NEEDS_TRANSLATE.sub(_translate, compose(text)))


def finish(text: str) -> str:
    """The spacing half of ``normalize``: punctuation, digits and Latin against Urdu, whitespace."""
    text = punctuation_space(text)
    if _MIXED_GUARD.search(text):
        text = _LATIN_LETTER.sub(" ", _DIGIT_LETTER.sub(" ", text))
    return collapse_whitespace(text)
