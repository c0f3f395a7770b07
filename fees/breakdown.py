"""A fee as a breakdown: lines of integer yen, each with the rule it comes from, and their total.

A booking stores ``FeeBreakdown.as_dict()`` (plain JSON: strings, integers, booleans, ISO dates) when it is made
and rebuilds it with ``FeeBreakdown.from_dict()``: later changes to the fee tables never touch it. Labels are not
stored as text but rebuilt from the line's kind and numbers, so a breakdown reads in the reader's language.
"""

import datetime as dt
from dataclasses import dataclass, field

from django.utils.translation import gettext as _
from django.utils.translation import ngettext

FORMAT_VERSION = 1


class LineKind:
    BASE = "base"
    MULTIPLIER = "multiplier"
    LIGHTING = "lighting"
    EXEMPTION = "exemption"
    ALL = (BASE, MULTIPLIER, LIGHTING, EXEMPTION)


def yen(amount: int) -> str:
    return f"{amount:,}"


def _factor(percent: int) -> str:
    """200 → "2", 150 → "1.5" (integer arithmetic, no float)."""
    whole, rest = divmod(percent, 100)
    return str(whole) if not rest else f"{whole}.{rest:02d}".rstrip("0")


@dataclass(frozen=True)
class FeeLine:
    kind: str  # LineKind
    amount: int  # yen; an exemption is negative
    rule_id: str = ""
    unit_price: int = 0  # yen per slot or hour (base, lighting)
    quantity: int = 0  # slots or hours (base, lighting)
    per: str = ""  # "slot" or "hour" (base, lighting)
    percent: int = 0  # the multiplier (200 = ×2) or the exempted share (100 = all)

    @property
    def label(self) -> str:
        """What the line is, in the current language."""
        values = {"price": yen(self.unit_price), "count": self.quantity}
        if self.kind == LineKind.BASE and self.per == "hour":
            return (
                ngettext(
                    "Use fee: %(price)s yen × %(count)s hour", "Use fee: %(price)s yen × %(count)s hours", self.quantity
                )
                % values
            )
        if self.kind == LineKind.BASE:
            return (
                ngettext(
                    "Use fee: %(price)s yen × %(count)s slot", "Use fee: %(price)s yen × %(count)s slots", self.quantity
                )
                % values
            )
        if self.kind == LineKind.LIGHTING:
            return (
                ngettext(
                    "Lighting: %(price)s yen × %(count)s hour",
                    "Lighting: %(price)s yen × %(count)s hours",
                    self.quantity,
                )
                % values
            )
        if self.kind == LineKind.MULTIPLIER:
            return _("Non-resident surcharge (×%(factor)s)") % {"factor": _factor(self.percent)}
        if self.kind == LineKind.EXEMPTION:
            if self.percent >= 100:
                return _("Fee exemption")
            return _("Fee reduction (%(percent)s%% exempted)") % {"percent": self.percent}
        return self.kind

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "label": self.label,
            "amount": self.amount,
            "rule_id": self.rule_id,
            "unit_price": self.unit_price,
            "quantity": self.quantity,
            "per": self.per,
            "percent": self.percent,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "FeeLine":
        if data.get("kind") not in LineKind.ALL:
            raise ValueError(f"unknown fee line kind {data.get('kind')!r}")
        return cls(
            kind=data["kind"],
            amount=_int(data["amount"]),
            rule_id=str(data.get("rule_id", "")),
            unit_price=_int(data.get("unit_price", 0)),
            quantity=_int(data.get("quantity", 0)),
            per=str(data.get("per", "")),
            percent=_int(data.get("percent", 0)),
        )


def _int(value) -> int:
    if isinstance(value, bool) or not isinstance(value, int):
        raise ValueError(f"yen and counts are integers, not {value!r}")
    return value


@dataclass(frozen=True)
class FeeBreakdown:
    lines: tuple[FeeLine, ...]
    priced_on: dt.date  # the booking date whose schedule priced it
    use_date: dt.date
    schedule_id: int | None = None
    schedule_name_ja: str = ""
    schedule_name_en: str = ""
    schedule_valid_from: dt.date | None = None
    fee_category: str = ""
    resident: bool = True
    is_sample: bool = False  # the amounts are demo values, not the municipality's
    currency: str = field(default="JPY")

    @property
    def total(self) -> int:
        return sum(line.amount for line in self.lines)

    def amount_of(self, kind: str) -> int:
        return sum(line.amount for line in self.lines if line.kind == kind)

    def line(self, kind: str) -> FeeLine | None:
        return next((line for line in self.lines if line.kind == kind), None)

    @property
    def total_label(self) -> str:
        return _("Total fee")

    def as_dict(self) -> dict:
        """JSON-serialisable; labels in the current language are included for readers such as the API."""
        return {
            "version": FORMAT_VERSION,
            "currency": self.currency,
            "total": self.total,
            "total_label": self.total_label,
            "lines": [line.as_dict() for line in self.lines],
            "priced_on": self.priced_on.isoformat(),
            "use_date": self.use_date.isoformat(),
            "schedule": {
                "id": self.schedule_id,
                "name_ja": self.schedule_name_ja,
                "name_en": self.schedule_name_en,
                "valid_from": self.schedule_valid_from.isoformat() if self.schedule_valid_from else None,
            },
            "fee_category": self.fee_category,
            "resident": self.resident,
            "is_sample": self.is_sample,
        }

    @classmethod
    def from_dict(cls, data: dict) -> "FeeBreakdown":
        """The breakdown a booking stored; ValueError when the data is not one (or its total does not add up)."""
        if data.get("version") != FORMAT_VERSION:
            raise ValueError(f"unknown fee breakdown version {data.get('version')!r}")
        schedule = data.get("schedule") or {}
        breakdown = cls(
            lines=tuple(FeeLine.from_dict(line) for line in data["lines"]),
            priced_on=dt.date.fromisoformat(data["priced_on"]),
            use_date=dt.date.fromisoformat(data["use_date"]),
            schedule_id=schedule.get("id"),
            schedule_name_ja=schedule.get("name_ja", ""),
            schedule_name_en=schedule.get("name_en", ""),
            schedule_valid_from=dt.date.fromisoformat(schedule["valid_from"]) if schedule.get("valid_from") else None,
            fee_category=data.get("fee_category", ""),
            resident=bool(data.get("resident", True)),
            is_sample=bool(data.get("is_sample", False)),
            currency=data.get("currency", "JPY"),
        )
        if "total" in data and _int(data["total"]) != breakdown.total:
            raise ValueError("the stored total does not match its lines")
        return breakdown
