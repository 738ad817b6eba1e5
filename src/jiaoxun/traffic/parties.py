"""Use cases of an accident's parties: who they are with their vehicles and liability, and
their signatures or refusals. Services flush, never commit."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import delete
from sqlalchemy.orm import Session

from jiaoxun.errors import Conflict, InvalidInput, NotFound
from jiaoxun.services import identity
from jiaoxun.traffic import liability, plates
from jiaoxun.traffic.accident_schemas import PartiesIn, PartyIn
from jiaoxun.traffic.accidents import audit, open_for_change, parties_of
from jiaoxun.traffic.models import Accident, AccidentParty, IdKind, Procedure
from jiaoxun.users.models import User


def _party_row(accident: Accident, seq: int, party: PartyIn, *, now: datetime) -> AccidentParty:
    where = f"party {seq}"
    try:
        name = identity.person_name(party.name)
        phone = identity.mobile_phone(party.phone)
        if party.id_kind is IdKind.RESIDENT_ID:
            number = identity.id_number(party.id_number, today=now.date())
        elif not 3 <= len(party.id_number) <= 30 or not party.id_number.isalnum():
            raise InvalidInput(
                f"a {party.id_kind.value} number is 3 to 30 letters and digits, got "
                f"{len(party.id_number)} characters"
            )
        else:
            number = party.id_number.upper()
        plate = plates.check_plate(party.plate).plate if party.plate.strip() else ""
    except (InvalidInput, ValueError) as error:
        raise InvalidInput(f"{where}: {error}") from None
    return AccidentParty(
        accident_id=accident.id,
        seq=seq,
        name=name,
        id_kind=party.id_kind,
        id_number=number,
        phone=phone,
        injured=party.injured,
        vehicle_type=party.vehicle_type,
        plate=plate,
        insurer=party.insurer,
        policy_number=party.policy_number,
        liability=party.liability,
    )


def set_parties(
    session: Session, accident: Accident, data: PartiesIn, *, user: User, now: datetime
) -> Accident:
    """Replace the parties (and their vehicles and liability); signatures given to the old
    ones lapse, since they signed something else."""
    open_for_change(accident, user, data.version)
    rows = [_party_row(accident, i, p, now=now) for i, p in enumerate(data.parties, 1)]
    if accident.procedure is Procedure.SELF_SETTLEMENT:
        vehicles = [r for r in rows if r.plate]
        if len(rows) != 2 or len(vehicles) != 2:
            raise InvalidInput(
                "a self-settled accident has exactly 2 parties, each with a plate (12123 "
                f"quick handling: two motor vehicles), got {len(rows)} parties with "
                f"{len(vehicles)} plates"
            )
    split = [r.liability for r in rows]
    if any(s is not None for s in split):
        try:
            liability.check_split(split, on_the_street=accident.procedure is not Procedure.GENERAL)
        except liability.ImpossibleSplit as error:
            raise InvalidInput(f"liability: {error}") from None
    session.execute(delete(AccidentParty).where(AccidentParty.accident_id == accident.id))
    session.add_all(rows)
    accident.version += 1
    session.flush()
    audit(
        session,
        accident,
        user,
        "parties",
        now,
        parties=len(rows),
        liability=[s.value if s else None for s in split],
    )
    return accident


def sign(
    session: Session,
    accident: Accident,
    seq: int,
    name: str,
    refused: bool,
    *,
    user: User,
    now: datetime,
) -> Accident:
    """A party signs the record (his name as recorded) or refuses to."""
    open_for_change(accident, user)
    party = next((p for p in parties_of(session, accident) if p.seq == seq), None)
    if party is None:
        raise NotFound(f"accident {accident.number} has no party {seq}")
    if party.signed_at is not None or party.refused:
        raise Conflict(f"party {seq} of accident {accident.number} already signed or refused")
    if refused:
        party.refused, party.signed_at = True, now
    else:
        try:
            signed = identity.person_name(name)
        except InvalidInput as error:
            raise InvalidInput(f"party {seq}'s signature: {error}") from None
        if signed != party.name:
            raise InvalidInput(
                f"party {seq} signs with his own name as recorded "
                f"({identity.mask_name(party.name)}), not {identity.mask_name(signed)}"
            )
        party.signed_name, party.signed_at = signed, now
    accident.version += 1
    session.flush()
    audit(session, accident, user, "signed", now, party=seq, refused=refused)
    return accident
