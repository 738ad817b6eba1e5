"""A citizen as the kiosk services keep him: a keyed hash of his ID number, masked forms of his
name, ID number and phone, and his phone in full only while a booking of his is open."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from jiaoxun.services import identity


@dataclass(frozen=True)
class Citizen:
    """Who books, as far as he is kept: a keyed hash of his ID number and masked forms."""

    citizen_sha256: str
    name_masked: str
    id_masked: str
    phone: str
    phone_masked: str

    @classmethod
    def of(cls, *, name: str, id_number: str, phone: str, key: bytes, today: date) -> Citizen:
        """Checked and masked.

        Raises
        ------
        InvalidInput
            For a name, ID number (GB 11643) or mobile phone number that breaks its rule.
        """
        number = identity.id_number(id_number, today=today)
        mobile = identity.mobile_phone(phone)
        return cls(
            identity.citizen_sha256(key, number),
            identity.mask_name(identity.person_name(name)),
            identity.mask_id(number),
            mobile,
            identity.mask_phone(mobile),
        )
