"""The incident-category taxonomy (警情类别): hierarchical 6-digit codes, as seed data and lookups.

Codes read like a postal code, coarse to fine, two digits per level, as provincial 110 centers
use them: `XX0000` is a top level (刑事 criminal, 治安 public order…), `XXYY00` a kind within it
(theft, robbery…), `XXYYZZ` a sub-kind (burglary, vehicle theft…). Each category carries a
default priority, 1 the most urgent to 4; the dispatcher may raise or lower it per incident.
The database table is seeded from `CATEGORIES` and may be edited there afterwards.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from types import MappingProxyType

from jiaoxun.errors import InvalidInput, NotFound

PRIORITIES = (1, 2, 3, 4)
_CODE = re.compile(r"[0-9]{6}")  # not \d, which also takes full-width digits


def validate_code(code: str) -> str:
    """Check the shape of a category code and give it back.

    Raises
    ------
    InvalidInput
        Unless `code` is 6 digits with a non-zero top level, and a level-3 part only under a
        level-2 part.
    """
    if not _CODE.fullmatch(code):
        raise InvalidInput(f"category code {code!r} must be 6 digits")
    if code[:2] == "00":
        raise InvalidInput(f"category code {code!r} must not start with 00 (no top level)")
    if code[2:4] == "00" and code[4:] != "00":
        raise InvalidInput(f"category code {code!r} has a level-3 part but no level-2 part")
    return code


@dataclass(frozen=True)
class Category:
    """One category; `level`, `parent_code` and `top` follow from the shape of `code`."""

    code: str
    name_zh: str
    name_en: str
    priority: int  # the default priority of its incidents, 1 (most urgent) … 4
    level: int = field(init=False)  # 1 (XX0000), 2 (XXYY00) or 3 (XXYYZZ)
    parent_code: str | None = field(init=False)  # None at the top level
    top: str = field(init=False)  # the level-1 code

    def __post_init__(self) -> None:
        validate_code(self.code)
        if self.priority not in PRIORITIES:
            raise InvalidInput(f"category {self.code}: priority(={self.priority}) must be 1 … 4")
        top = self.code[:2] + "0000"
        if self.code[2:] == "0000":
            level, parent = 1, None
        elif self.code[4:] == "00":
            level, parent = 2, top
        else:
            level, parent = 3, self.code[:4] + "00"
        object.__setattr__(self, "level", level)
        object.__setattr__(self, "parent_code", parent)
        object.__setattr__(self, "top", top)


_C = Category

#: the seed taxonomy, each parent before its children
CATEGORIES: tuple[Category, ...] = (
    _C("010000", "刑事", "Criminal", 2),
    _C("010100", "杀人", "Homicide", 1),
    _C("010200", "抢劫", "Robbery", 1),
    _C("010300", "抢夺", "Snatching", 1),
    _C("010400", "伤害", "Assault", 2),
    _C("010401", "持械伤害", "Assault with a weapon", 1),
    _C("010402", "徒手伤害", "Assault without a weapon", 2),
    _C("010500", "盗窃", "Theft", 2),
    _C("010501", "入室盗窃", "Burglary", 2),
    _C("010502", "盗窃机动车", "Motor vehicle theft", 2),
    _C("010503", "盗窃电动车、自行车", "E-bike or bicycle theft", 3),
    _C("010504", "扒窃", "Pickpocketing", 2),
    _C("010600", "诈骗", "Fraud", 2),
    _C("010700", "绑架", "Kidnapping", 1),
    _C("010800", "强奸", "Rape", 1),
    _C("010900", "放火", "Arson", 1),
    _C("011000", "涉枪涉爆", "Firearms or explosives", 1),
    _C("011100", "毒品犯罪", "Drug offence", 2),
    _C("020000", "治安", "Public order", 2),
    _C("020100", "打架斗殴", "Fight", 2),
    _C("020101", "聚众斗殴", "Gang fight", 1),
    _C("020200", "纠纷", "Dispute", 3),
    _C("020201", "邻里纠纷", "Neighbour dispute", 3),
    _C("020202", "家庭纠纷", "Family dispute", 3),
    _C("020300", "家庭暴力", "Domestic violence", 2),
    _C("020400", "赌博", "Gambling", 3),
    _C("020500", "寻衅滋事", "Provoking trouble", 2),
    _C("020600", "扰乱公共秩序", "Disturbing public order", 2),
    _C("020700", "醉酒滋事", "Drunken disorder", 2),
    _C("020800", "可疑人员", "Suspicious person", 2),
    _C("020900", "噪声扰民", "Noise nuisance", 3),
    _C("030000", "交通", "Traffic", 2),
    _C("030100", "交通事故", "Traffic accident", 2),
    _C("030101", "伤人事故", "Accident with injuries", 1),
    _C("030102", "死亡事故", "Fatal accident", 1),
    _C("030103", "财产损失事故", "Accident with property damage only", 3),
    _C("030200", "交通违法", "Traffic violation", 3),
    _C("030201", "酒驾醉驾", "Drink driving", 2),
    _C("030202", "违法停车", "Illegal parking", 3),
    _C("030300", "肇事逃逸", "Hit-and-run", 2),
    _C("030400", "交通设施", "Traffic facilities", 3),
    _C("030500", "交通秩序", "Traffic order", 3),
    _C("040000", "火灾/抢险救援", "Fire and rescue", 1),
    _C("040100", "火灾", "Fire", 1),
    _C("040101", "建筑火灾", "Building fire", 1),
    _C("040102", "车辆火灾", "Vehicle fire", 1),
    _C("040200", "抢险救援", "Rescue", 1),
    _C("040201", "人员被困", "People trapped", 1),
    _C("040202", "电梯困人", "People trapped in a lift", 2),
    _C("040300", "危化品泄漏", "Hazardous materials leak", 1),
    _C("040400", "燃气泄漏", "Gas leak", 1),
    _C("050000", "群众求助", "Help", 2),
    _C("050100", "人员走失", "Missing person", 2),
    _C("050101", "儿童走失", "Missing child", 1),
    _C("050200", "开锁求助", "Lockout", 3),
    _C("050300", "溺水", "Drowning", 1),
    _C("050400", "坠落", "Fall from height", 1),
    _C("050500", "自杀", "Suicide attempt", 1),
    _C("050600", "急病求助", "Medical emergency", 2),
    _C("050700", "水电气暖", "Water, power, gas or heating", 3),
    _C("050800", "物品遗失", "Lost property", 4),
    _C("050900", "咨询", "Consultation", 4),
    _C("060000", "社会联动", "Other agencies", 3),
    _C("060100", "城市管理", "City management", 3),
    _C("060200", "市政设施", "Municipal facilities", 3),
    _C("070000", "群体事件", "Group incident", 1),
    _C("070100", "聚集上访", "Gathering or petition", 1),
    _C("070200", "群体械斗", "Mass brawl with weapons", 1),
    _C("070300", "堵塞交通", "Road blockade", 1),
    _C("080000", "灾害事故", "Disaster", 1),
    _C("080100", "自然灾害", "Natural disaster", 1),
    _C("080101", "洪涝", "Flood", 1),
    _C("080102", "暴雪", "Snowstorm", 1),
    _C("080200", "生产安全事故", "Industrial accident", 1),
    _C("080300", "建筑物倒塌", "Building collapse", 1),
    _C("090000", "举报", "Tip-off or complaint", 4),
    _C("090100", "违法犯罪线索", "Crime tip-off", 4),
    _C("090200", "投诉民警", "Complaint about police", 4),
    _C("990000", "其他", "Other", 3),
    _C("999900", "其他警情", "Other incident", 3),
)

_BY_CODE = MappingProxyType({c.code: c for c in CATEGORIES})

#: the level-1 categories, in code order
TOP_LEVELS: tuple[Category, ...] = tuple(c for c in CATEGORIES if c.level == 1)


def category(code: str) -> Category:
    """The category with this code.

    Raises
    ------
    InvalidInput
        When `code` is not a well-formed category code.
    NotFound
        When no category has this code.
    """
    validate_code(code)
    try:
        return _BY_CODE[code]
    except KeyError:
        raise NotFound(f"no incident category with code {code!r}") from None


def children(code: str) -> tuple[Category, ...]:
    """The categories one level below `code` (empty for a leaf).

    Raises
    ------
    InvalidInput, NotFound
        As `category`.
    """
    parent = category(code).code
    return tuple(c for c in CATEGORIES if c.parent_code == parent)


def search(text: str) -> tuple[Category, ...]:
    """Categories whose Chinese or English name contains `text` (any case), or whose code starts
    with it; in taxonomy order, for a searchable picker. Blank text matches nothing.
    """
    needle = text.strip().casefold()
    if not needle:
        return ()
    return tuple(
        c
        for c in CATEGORIES
        if needle in c.name_zh or needle in c.name_en.casefold() or c.code.startswith(needle)
    )
