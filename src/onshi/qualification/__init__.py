"""Qualification: insurers, members' qualifications (資格), 限度額適用認定 and 特定疾病."""
