import math

from portal.letters import codes


def test_it_makes_codes_of_at_least_80_random_bits():
    assert codes.LENGTH * math.log2(len(codes.ALPHABET)) >= 80
    seen = {codes.new_code() for _ in range(2000)}
    assert len(seen) == 2000
    assert all(len(c) == codes.LENGTH and set(c) <= set(codes.ALPHABET) for c in seen)


def test_it_groups_codes_for_reading_aloud_and_reads_them_back():
    code = codes.new_code()
    text = codes.grouped(code)
    assert text.count("-") == 4 and all(len(g) == 4 for g in text.split("-"))
    assert codes.normalize(text) == code
    assert codes.normalize(" " + text.lower().replace("-", " ") + "\n") == code


def test_it_reads_confusable_letters_as_digits_and_refuses_non_codes():
    assert codes.normalize("OIL0-0000-0000-0000-0000") == "01100000000000000000"
    assert codes.normalize("ABCD") is None
    assert codes.normalize("U" * 20) is None  # no U in the alphabet
    assert codes.normalize("٠" * 20) is None
    assert codes.normalize("") is None
