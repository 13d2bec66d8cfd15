"""Contact addresses as Quarterdeck stores them: phones in E.164, emails lower-case; refusals say why."""
from __future__ import annotations

import phonenumbers
from email_validator import EmailNotValidError, validate_email
from phonenumbers import NumberParseException, ValidationResult

from app.errors import Invalid

_PHONE_PROBLEMS = {
    ValidationResult.TOO_SHORT: "is too short",
    ValidationResult.TOO_LONG: "is too long",
    ValidationResult.INVALID_LENGTH: "has the wrong number of digits",
    ValidationResult.IS_POSSIBLE_LOCAL_ONLY: "is a local number: add the area code",
}


def normalise_phone(raw: str, default_region: str | None) -> str:
    """The number in E.164; `default_region` (ISO country) applies when it has no +country code."""
    text = raw.strip()
    if any(char.isalpha() for char in text):
        raise Invalid("A phone number holds digits only, not letters.", "address")
    try:
        number = phonenumbers.parse(text, default_region)
    except NumberParseException as error:
        if error.error_type == NumberParseException.INVALID_COUNTRY_CODE and text.startswith("+"):
            raise Invalid("This number starts with an unknown country code.", "address") from None
        if error.error_type == NumberParseException.INVALID_COUNTRY_CODE:
            raise Invalid("Start the number with + and its country code, e.g. +44 20 7946 0958: the person "
                          "has no region that tells which country it is in.", "address") from None
        if error.error_type == NumberParseException.TOO_LONG:
            raise Invalid("This number is too long to be a phone number.", "address") from None
        raise Invalid("This is not a phone number.", "address") from None
    country = phonenumbers.region_code_for_country_code(number.country_code)
    where = f"for {country} (+{number.country_code})" if country != "ZZ" else f"for +{number.country_code}"
    problem = _PHONE_PROBLEMS.get(phonenumbers.is_possible_number_with_reason(number))
    if problem:
        raise Invalid(f"This number {problem} {where}.", "address")
    if not phonenumbers.is_valid_number(number):
        raise Invalid(f"This is not a valid number {where}: check the area code and digits.", "address")
    return phonenumbers.format_number(number, phonenumbers.PhoneNumberFormat.E164)


def normalise_email(raw: str) -> str:
    try:
        return validate_email(raw.strip(), check_deliverability=False).normalized.lower()
    except EmailNotValidError as error:
        raise Invalid(str(error), "address") from None
