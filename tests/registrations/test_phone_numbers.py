"""normalise_phone's shortcut for plain E.164 input must answer exactly as the library does."""

import random

import phonenumbers
import pytest

from consular.validation import Errors, _parse_plain_e164, normalise_phone


def _library_answer(text: str) -> str | None:
    try:
        number = phonenumbers.parse(text, None)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(number):
        return None
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def _example_numbers() -> list[str]:
    numbers = []
    for region in sorted(phonenumbers.SUPPORTED_REGIONS):
        for kind in range(12):  # every PhoneNumberType but UNKNOWN
            example = phonenumbers.example_number_for_type(region, kind)
            if example is not None:
                numbers.append(phonenumbers.format_number(example, phonenumbers.PhoneNumberFormat.E164))
    return numbers


def _random_numbers(per_country_code: int) -> list[str]:
    rng = random.Random(20261122)  # noqa: S311 - reproducible test input, not a secret
    numbers = []
    for code in sorted(phonenumbers.COUNTRY_CODE_TO_REGION_CODE):
        for _ in range(per_country_code):
            length = rng.randint(2, 15)
            numbers.append(f"+{code}" + "".join(rng.choice("0123456789") for _ in range(length)))
    return numbers


def test_every_regions_example_numbers_normalise_as_the_library_does():
    numbers = _example_numbers()
    assert len(numbers) > 1000
    for text in numbers:
        assert normalise_phone(text, "phone", Errors(), required=True) == _library_answer(text), text


def test_random_digits_after_every_country_code_normalise_as_the_library_does():
    for text in _random_numbers(per_country_code=60):
        assert normalise_phone(text, "phone", Errors(), required=True) == _library_answer(text), text


def test_the_shortcut_builds_the_number_the_library_parses():
    taken = 0
    for text in _example_numbers() + _random_numbers(per_country_code=20):
        shortcut = _parse_plain_e164(text)
        if shortcut is not None:
            taken += 1
            assert shortcut == phonenumbers.parse(text, None), text
    assert taken > 2000  # the shortcut serves most input, not a corner


@pytest.mark.parametrize(
    "text",
    [
        "+44 20 7946 0958",  # spaces
        "+4402079460958",  # national prefix kept after the country code
        "+390612345678",  # Italian leading zero
        "+١٢٣٤٥٦٧٨٩",  # non-ASCII digits
        "+0123456789",  # no country code starts with 0
        "+999123456",  # unassigned country code
    ],
)
def test_input_outside_the_plain_form_goes_through_the_library(text):
    assert _parse_plain_e164(text) is None
    assert normalise_phone(text, "phone", Errors(), required=True) == _library_answer(text)
