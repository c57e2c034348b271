"""Shared data for the 一括照会 tests: one institution, an insurer, and people whose searches
give every result code."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

from sqlalchemy.orm import Session

from onshi.accounts.models import StaffAccount
from onshi.institutions.models import Institution
from onshi.qualification.models import Insurer, LinkStatus, LossReason
from tests.factories import make_insurer, make_person, make_qualification, make_staff_account

JA_HEADER = "照会番号,保険者番号,記号,番号,枝番,生年月日"
EN_HEADER = "patient_ref,insurer_number,symbol,number,branch,birth_date"


@dataclass
class Nation:
    institution: Institution
    staff: StaffAccount
    insurer: Insurer
    other_insurer: Insurer

    def row(
        self, ref: str, number: str, birth: str, *, branch: str = "", symbol: str = "1234"
    ) -> str:
        return f"{ref},{self.insurer.number},{symbol},{number},{branch},{birth}"


def build_nation(db: Session) -> Nation:
    staff = make_staff_account(db)
    assert staff.institution_id is not None
    institution = db.get(Institution, staff.institution_id)
    assert institution is not None
    insurer = make_insurer(db)
    other = make_insurer(db)
    # 1 有効
    valid = make_person(db, family_name="有効", birth_date=date(1980, 5, 17))
    make_qualification(db, valid, insurer, number="100001", branch="00")
    # 2 無効
    lost = make_person(db, family_name="喪失", birth_date=date(1970, 1, 2))
    make_qualification(
        db,
        lost,
        insurer,
        number="100002",
        branch="00",
        lost_on=date(2025, 4, 1),
        loss_reason=LossReason.OTHER,
    )
    # 3 無効（新しい資格あり）: lost here, a newer one at another insurer
    moved = make_person(db, family_name="転職", birth_date=date(1990, 3, 3))
    make_qualification(
        db,
        moved,
        insurer,
        number="100003",
        branch="00",
        lost_on=date(2025, 10, 1),
        loss_reason=LossReason.OTHER_INSURANCE,
    )
    make_qualification(db, moved, other, number="900003", acquired_on=date(2025, 10, 1))
    # invisible: 5-item check failed → 4
    hidden = make_person(db, family_name="不一致", birth_date=date(1985, 8, 8))
    make_qualification(db, hidden, insurer, number="100004", link_status=LinkStatus.HELD)
    # 5 複数該当: twins on one 記号番号 with different 枝番, searched without 枝番
    for branch in ("01", "02"):
        twin = make_person(db, family_name="双子", birth_date=date(2015, 6, 6))
        make_qualification(db, twin, insurer, number="100005", branch=branch)
    db.commit()
    return Nation(institution, staff, insurer, other)


def sample_rows(nation: Nation) -> list[str]:
    """Lines 2–12 of a file under a header: 5 result codes, a 枝番 hit, and 5 malformed rows."""
    good = nation.insurer.number
    bad_check = good[:-1] + str((int(good[-1]) + 1) % 10)
    return [
        nation.row("P001", "100001", "19800517", branch="00"),  # 2: 1
        nation.row("P002", "100002", "1970-01-02"),  # 3: 2
        nation.row("P003", "100003", "1990/03/03"),  # 4: 3
        nation.row("P004", "100004", "19850808"),  # 5: 4 (invisible)
        nation.row("P005", "100005", "20150606"),  # 6: 5
        nation.row("P006", "100005", "20150606", branch="02"),  # 7: 1 with 枝番
        f"P007,{bad_check},1234,100001,00,19800517",  # 8: check digit
        nation.row("P008", "100001", "19801317"),  # 9: bad date
        f"P009,{good},1234,100001",  # 10: column count
        nation.row("P010", "", "19800517"),  # 11: number required
        nation.row(
            "P011", "１００００１", "１９８００５１７", symbol="１２３４"
        ),  # 12: 1 (full width)
    ]


EXPECTED = {
    2: (1, None),
    3: (2, None),
    4: (3, None),
    5: (4, None),
    6: (5, None),
    7: (1, None),
    8: (None, "insurer_number.check_digit"),
    9: (None, "batch.row.birth_date_invalid"),
    10: (None, "batch.row.column_count"),
    11: (None, "number.required"),
    12: (1, None),
}
