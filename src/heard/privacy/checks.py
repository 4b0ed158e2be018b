"""Checksums that tell real card and bank numbers from look-alikes (order, tracking ids)."""

from __future__ import annotations

import re

#: IBAN lengths by country (ISO 13616 registry); unknown countries use the 15-34 range.
IBAN_LENGTHS: dict[str, int] = {
    "AD": 24, "AE": 23, "AL": 28, "AT": 20, "AZ": 28, "BA": 20, "BE": 16, "BG": 22,
    "BH": 22, "BR": 29, "CH": 21, "CR": 22, "CY": 28, "CZ": 24, "DE": 22, "DK": 18,
    "DO": 28, "EE": 20, "EG": 29, "ES": 24, "FI": 18, "FO": 18, "FR": 27, "GB": 22,
    "GE": 22, "GI": 23, "GL": 18, "GR": 27, "GT": 28, "HR": 21, "HU": 28, "IE": 22,
    "IL": 23, "IQ": 23, "IS": 26, "IT": 27, "JO": 30, "KW": 30, "KZ": 20, "LB": 28,
    "LI": 21, "LT": 20, "LU": 20, "LV": 21, "MC": 27, "MD": 24, "ME": 22, "MK": 19,
    "MR": 27, "MT": 31, "MU": 30, "NL": 18, "NO": 15, "PK": 24, "PL": 28, "PS": 29,
    "PT": 25, "QA": 29, "RO": 24, "RS": 22, "SA": 24, "SE": 24, "SI": 19, "SK": 24,
    "SM": 27, "TN": 24, "TR": 26, "UA": 29, "VG": 24, "XK": 20,
}  # fmt: skip

_NON_ALNUM = re.compile(r"[^0-9A-Za-z]")


def digits_of(text: str) -> str:
    return "".join(ch for ch in text if ch.isdigit())


def luhn_ok(number: str) -> bool:
    """True if the digit string passes the Luhn (mod 10) check used by payment cards."""
    if not number.isdigit() or len(number) < 2:
        return False
    total = 0
    for k, ch in enumerate(reversed(number)):
        d = ord(ch) - 48
        if k % 2 == 1:
            d *= 2
            if d > 9:
                d -= 9
        total += d
    return total % 10 == 0


def card_ok(number: str) -> bool:
    """A plausible payment card number: 13-19 digits, Luhn-valid, not one repeated digit."""
    return 13 <= len(number) <= 19 and len(set(number)) > 1 and luhn_ok(number)


def iban_ok(candidate: str) -> bool:
    """True if `candidate` (spaces allowed, any case) is an IBAN passing the mod-97 check."""
    iban = _NON_ALNUM.sub("", candidate).upper()
    if len(iban) < 15 or len(iban) > 34 or not iban[:2].isalpha() or not iban[2:4].isdigit():
        return False
    expected = IBAN_LENGTHS.get(iban[:2])
    if expected is not None and len(iban) != expected:
        return False
    rearranged = iban[4:] + iban[:4]
    numeric = "".join(str(int(ch, 36)) for ch in rearranged)
    return int(numeric) % 97 == 1
