"""Tables of the force's traffic work: accidents by the procedure the rules give, their parties
and vehicles, the scene-protection steps, violations with their code table, and photos.

An *accident* is the record of Art. 24 of 公安部令第146号: when and where, the weather, the
collision, the damage, the parties with their vehicles and liability, the agreement or ruling
number. Its *procedure* (self-settlement online, simple, general) is decided from the answers
of an eligibility check, kept with it. A *violation* is one offence by one plate, its code's
points and fine as the code table stood when it was recorded. A *photo* is a file in the photo
store, named by its SHA-256 and owned by an accident or a violation.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from sqlalchemy import (
    JSON,
    Boolean,
    Float,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
)
from sqlalchemy.orm import Mapped, mapped_column

from jiaoxun.db import Base, UtcDateTime, str_enum


class Procedure(enum.StrEnum):
    SELF_SETTLEMENT = "self_settlement"  # 自行协商 / 12123 快处
    SIMPLE = "simple"  # 简易程序: one officer rules on the spot
    GENERAL = "general"  # 一般程序: scene protected, handed to the accident unit


class AccidentState(enum.StrEnum):
    OPEN = "open"  # on the street
    SETTLED = "settled"  # agreement signed (self-settlement) or ruled on the spot (simple)
    HANDED_OVER = "handed_over"  # general: handed to the accident unit


class Weather(enum.StrEnum):
    CLEAR = "clear"  # 晴
    CLOUDY = "cloudy"  # 阴
    RAIN = "rain"  # 雨
    SNOW = "snow"  # 雪
    FOG = "fog"  # 雾
    ICE = "ice"  # 冰冻
    WIND = "wind"  # 大风
    OTHER = "other"


class Collision(enum.StrEnum):
    """The collision form (碰撞形态) of GA/T 49 as officers pick it."""

    REAR_END = "rear_end"  # 追尾
    SIDE = "side"  # 侧面碰撞
    HEAD_ON = "head_on"  # 正面碰撞
    SCRAPE = "scrape"  # 刮擦
    REVERSING = "reversing"  # 倒车碰撞
    PEDESTRIAN = "pedestrian"  # 碰撞行人
    OBJECT = "object"  # 碰撞固定物
    ROLLOVER = "rollover"  # 翻车
    OTHER = "other"


class Liability(enum.StrEnum):
    """A party's share of liability (146号令 Art. 60)."""

    FULL = "full"  # 全部责任
    MAIN = "main"  # 主要责任
    EQUAL = "equal"  # 同等责任
    SECONDARY = "secondary"  # 次要责任
    NONE = "none"  # 无责任


class IdKind(enum.StrEnum):
    RESIDENT_ID = "resident_id"  # 居民身份证; a mainland driving licence carries the same number
    PASSPORT = "passport"  # foreigners' and others' documents
    OTHER = "other"


class SceneStep(enum.StrEnum):
    """The steps of protecting a general accident's scene (146号令 Art. 30), in their order."""

    CORDON = "cordon"  # 划定警戒区，摆放锥筒、警示标志
    TRAFFIC_DIRECTED = "traffic_directed"  # 指挥疏导，上游分流
    INJURED_HELPED = "injured_helped"  # 抢救伤员
    VEHICLES_PLACED = "vehicles_placed"  # 警车停放并开启警灯
    PARTIES_FOUND = "parties_found"  # 查找当事人、控制肇事嫌疑人
    WITNESSES_FOUND = "witnesses_found"  # 寻找证人
    EVIDENCE_FIXED = "evidence_fixed"  # 拍照、标划、固定痕迹


class ViolationState(enum.StrEnum):
    PENDING = "pending"  # 待处理
    DECIDED = "decided"  # 已处理: a decision (处罚决定书) numbered
    PAID = "paid"  # 已缴款


class PhotoKind(enum.StrEnum):
    FRONT_SIDE = "front_side"  # 车辆前部侧面
    REAR_SIDE = "rear_side"  # 车辆后部侧面
    IMPACT = "impact"  # 碰撞部位
    SCENE = "scene"  # 现场全景
    EVIDENCE = "evidence"  # a violation's evidence
    OTHER = "other"


class Accident(Base):
    """One traffic accident, from the street to its settlement or hand-over."""

    __tablename__ = "accident"
    __table_args__ = (Index("ix_accident_occurred_at", "occurred_at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    incident_id: Mapped[int | None] = mapped_column(ForeignKey("incident.id"), index=True)
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    recorded_by: Mapped[str] = mapped_column(String(50))
    occurred_at: Mapped[datetime] = mapped_column(UtcDateTime())
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(200), default="")
    #: the road the place snapped to, and its edge, for the accidents-by-stretch ranking
    road: Mapped[str] = mapped_column(String(200), default="")
    edge: Mapped[int | None] = mapped_column(Integer)
    weather: Mapped[Weather] = mapped_column(str_enum(Weather, length=10))
    collision: Mapped[Collision] = mapped_column(str_enum(Collision, length=12))
    collision_point: Mapped[str] = mapped_column(String(200), default="")  # 碰撞部位
    damage: Mapped[str] = mapped_column(Text, default="")
    injured: Mapped[int] = mapped_column(Integer, default=0)
    killed: Mapped[int] = mapped_column(Integer, default=0)
    #: the eligibility check as answered, the procedure it gave and the rules that decided
    answers: Mapped[dict[str, Any]] = mapped_column(JSON)
    procedure: Mapped[Procedure] = mapped_column(str_enum(Procedure, length=20))
    reasons: Mapped[list[dict[str, str]]] = mapped_column(JSON, default=list)
    state: Mapped[AccidentState] = mapped_column(str_enum(AccidentState, length=20))
    #: 协议书编号 (self-settlement) or 简易程序事故认定书编号 (simple)
    agreement_number: Mapped[str] = mapped_column(String(40), default="")
    ruling_number: Mapped[str] = mapped_column(String(40), default="")
    settled_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    handed_over_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    handed_over_to: Mapped[str] = mapped_column(String(100), default="")
    note: Mapped[str] = mapped_column(Text, default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class AccidentParty(Base):
    """A party to an accident with his vehicle, his liability and his signature or refusal."""

    __tablename__ = "accident_party"
    __table_args__ = (UniqueConstraint("accident_id", "seq"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    accident_id: Mapped[int] = mapped_column(ForeignKey("accident.id", ondelete="CASCADE"))
    seq: Mapped[int] = mapped_column(Integer)  # 1 is party A (甲方), 2 party B (乙方) …
    name: Mapped[str] = mapped_column(String(50))
    id_kind: Mapped[IdKind] = mapped_column(str_enum(IdKind, length=12))
    id_number: Mapped[str] = mapped_column(String(30))
    phone: Mapped[str] = mapped_column(String(20))
    injured: Mapped[bool] = mapped_column(Boolean, default=False)
    #: the vehicle; empty plate for a pedestrian or a non-motor vehicle without one
    vehicle_type: Mapped[str] = mapped_column(String(20), default="")
    plate: Mapped[str] = mapped_column(String(12), default="")
    insurer: Mapped[str] = mapped_column(String(100), default="")
    policy_number: Mapped[str] = mapped_column(String(40), default="")
    liability: Mapped[Liability | None] = mapped_column(str_enum(Liability, length=10))
    signed_name: Mapped[str] = mapped_column(String(50), default="")
    signed_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    refused: Mapped[bool] = mapped_column(Boolean, default=False)


class AccidentStep(Base):
    """One scene-protection step done, when and by whom."""

    __tablename__ = "accident_step"
    __table_args__ = (UniqueConstraint("accident_id", "step"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    accident_id: Mapped[int] = mapped_column(ForeignKey("accident.id", ondelete="CASCADE"))
    step: Mapped[SceneStep] = mapped_column(str_enum(SceneStep, length=20))
    done_at: Mapped[datetime] = mapped_column(UtcDateTime())
    done_by: Mapped[str] = mapped_column(String(50))
    note: Mapped[str] = mapped_column(String(500), default="")


class ViolationCode(Base):
    """One code of the violation table (违法代码): its points are national, its fine the
    province's; an edit raises the version and never touches violations already recorded."""

    __tablename__ = "violation_code"

    id: Mapped[int] = mapped_column(primary_key=True)
    code: Mapped[str] = mapped_column(String(10), unique=True)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    points: Mapped[int] = mapped_column(Integer)  # 记分: 0, 1, 3, 6, 9 or 12
    fine_min_yuan: Mapped[float] = mapped_column(Float)
    fine_max_yuan: Mapped[float] = mapped_column(Float)
    fine_yuan: Mapped[float] = mapped_column(Float)  # the amount the province's table sets
    law: Mapped[str] = mapped_column(String(300), default="")  # 违法条款 and 处罚依据
    province: Mapped[str] = mapped_column(String(10), default="")
    source: Mapped[str] = mapped_column(String(500), default="")
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    version: Mapped[int] = mapped_column(Integer, default=1)


class TrafficViolation(Base):
    """One violation by one plate: where and when, its code as it stood, its handling."""

    __tablename__ = "traffic_violation"
    __table_args__ = (Index("ix_traffic_violation_plate_at", "plate", "at"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    number: Mapped[str] = mapped_column(String(30), unique=True)
    plate: Mapped[str] = mapped_column(String(12))
    plate_kind: Mapped[str] = mapped_column(String(20))
    #: a keyed hash of the engine number's last 6 (from the registration card), so that the
    #: owner can look the violation up online; none when no driver was there
    engine_sha256: Mapped[str | None] = mapped_column(String(64))
    code: Mapped[str] = mapped_column(String(10))
    code_version: Mapped[int] = mapped_column(Integer)
    name_zh: Mapped[str] = mapped_column(String(200))
    name_en: Mapped[str] = mapped_column(String(200))
    points: Mapped[int] = mapped_column(Integer)
    fine_yuan: Mapped[float] = mapped_column(Float)
    at: Mapped[datetime] = mapped_column(UtcDateTime(), index=True)
    recorded_at: Mapped[datetime] = mapped_column(UtcDateTime())
    lon: Mapped[float] = mapped_column(Float)
    lat: Mapped[float] = mapped_column(Float)
    place: Mapped[str] = mapped_column(String(200), default="")
    unit_id: Mapped[int | None] = mapped_column(ForeignKey("unit.id"), index=True)
    zone_id: Mapped[int | None] = mapped_column(ForeignKey("zone.id"))
    recorded_by: Mapped[str] = mapped_column(String(50))
    #: the field activity the violation counts as (管事率)
    activity_id: Mapped[int | None] = mapped_column(ForeignKey("activity.id"))
    accident_id: Mapped[int | None] = mapped_column(ForeignKey("accident.id"))
    state: Mapped[ViolationState] = mapped_column(str_enum(ViolationState, length=10))
    decision_number: Mapped[str] = mapped_column(String(40), default="")
    decided_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    decided_by: Mapped[str] = mapped_column(String(50), default="")
    paid_at: Mapped[datetime | None] = mapped_column(UtcDateTime())
    note: Mapped[str] = mapped_column(String(500), default="")
    version: Mapped[int] = mapped_column(Integer, default=1)


class Photo(Base):
    """A photo in the store, owned by an accident or a violation."""

    __tablename__ = "traffic_photo"
    __table_args__ = (Index("ix_traffic_photo_owner", "owner", "owner_id"),)

    id: Mapped[int] = mapped_column(primary_key=True)
    owner: Mapped[str] = mapped_column(String(10))  # "accident" or "violation"
    owner_id: Mapped[int] = mapped_column(Integer)
    kind: Mapped[PhotoKind] = mapped_column(str_enum(PhotoKind, length=12))
    content_type: Mapped[str] = mapped_column(String(30))
    size: Mapped[int] = mapped_column(Integer)
    sha256: Mapped[str] = mapped_column(String(64))
    width: Mapped[int] = mapped_column(Integer)
    height: Mapped[int] = mapped_column(Integer)
    uploaded_by: Mapped[str] = mapped_column(String(50))
    uploaded_at: Mapped[datetime] = mapped_column(UtcDateTime())
