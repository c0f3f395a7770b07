"""Yen arithmetic: integers only, and one rounding rule.

Rounding (端数計算): a municipality's claims and debts are computed under 国等の債権債務等の金額の端数計算に関する
法律 (昭和25年法律第61号), which applies to 地方公共団体 (第1条). Its 第2条第1項: a fraction of less than one yen
is **cut off** (切り捨て) — a half yen included, there is no rounding up. 第2条第2項: when the *whole* amount is
below one yen, a claim (a fee the city charges) is cut to 0 and a debt (a refund the city pays) counts as 1 yen.
"""

from fractions import Fraction


def share(amount: int, percent: int) -> int:
    """``percent`` % of ``amount`` yen, a fraction of a yen cut off (端数計算法 第2条第1項): share(150, 50) == 75,
    share(75, 50) == 37."""
    _check(amount, percent)
    return amount * percent // 100


def refund_share(amount: int, percent: int) -> int:
    """Like ``share`` for what the municipality pays back: a whole amount below one yen counts as 1 yen
    (第2条第2項), so share 50 % of 1 yen is 1, never more than ``amount``."""
    _check(amount, percent)
    exact = Fraction(amount * percent, 100)
    if 0 < exact < 1:
        return 1
    return int(exact)  # int() of a positive Fraction cuts the fraction off


def _check(amount: int, percent: int) -> None:
    if not isinstance(amount, int) or not isinstance(percent, int) or isinstance(amount, bool):
        raise TypeError("yen and percentages are integers")
    if amount < 0 or percent < 0:
        raise ValueError("yen and percentages are not negative here")
