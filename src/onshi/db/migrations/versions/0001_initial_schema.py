"""Initial schema: every domain's tables.

Generated with ``alembic revision --autogenerate`` against PostgreSQL, then hand-checked:
``StrEnumType`` columns are written as plain ``sa.String`` (the enum lives in the models; the
allowed codes are enforced by the named CHECK constraints), and the audit chain head row is
inserted here.

Revision ID: 0001_initial
Revises: 
Create Date: 2026-11-21 09:54:22.294473
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

import onshi.db.types


revision: str = '0001_initial'
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table('audit_chain_head',
    sa.Column('id', sa.BigInteger(), autoincrement=False, nullable=False),
    sa.Column('last_seq', sa.BigInteger(), nullable=False),
    sa.Column('last_hash', sa.String(length=64), nullable=False),
    sa.CheckConstraint('id = 1', name=op.f('ck_audit_chain_head_single_row')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_chain_head'))
    )
    op.bulk_insert(
        sa.table(
            'audit_chain_head',
            sa.column('id', sa.BigInteger()),
            sa.column('last_seq', sa.BigInteger()),
            sa.column('last_hash', sa.String(64)),
        ),
        [{'id': 1, 'last_seq': 0, 'last_hash': '0' * 64}],
    )
    op.create_table('audit_events',
    sa.Column('seq', sa.BigInteger(), nullable=False),
    sa.Column('occurred_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('actor_kind', sa.String(length=7), nullable=False),
    sa.Column('actor_id', sa.String(length=64), nullable=True),
    sa.Column('action', sa.String(length=64), nullable=False),
    sa.Column('object_type', sa.String(length=64), nullable=False),
    sa.Column('object_id', sa.String(length=64), nullable=False),
    sa.Column('person_id', sa.BigInteger(), nullable=True),
    sa.Column('institution_id', sa.BigInteger(), nullable=True),
    sa.Column('details', sa.JSON(), nullable=False),
    sa.Column('prev_hash', sa.String(length=64), nullable=False),
    sa.Column('hash', sa.String(length=64), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("actor_kind IN ('staff', 'patient', 'device', 'system')", name=op.f('ck_audit_events_actor_kind')),
    sa.CheckConstraint('seq >= 1', name=op.f('ck_audit_events_seq_positive')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_audit_events')),
    sa.UniqueConstraint('hash', name=op.f('uq_audit_events_hash')),
    sa.UniqueConstraint('seq', name=op.f('uq_audit_events_seq'))
    )
    op.create_index('ix_audit_events_institution_occurred', 'audit_events', ['institution_id', 'occurred_at'], unique=False)
    op.create_index('ix_audit_events_object', 'audit_events', ['object_type', 'object_id'], unique=False)
    op.create_index('ix_audit_events_occurred_at', 'audit_events', ['occurred_at'], unique=False)
    op.create_index('ix_audit_events_person_occurred', 'audit_events', ['person_id', 'occurred_at'], unique=False)
    op.create_table('institutions',
    sa.Column('code', sa.String(length=10), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=14), nullable=False),
    sa.Column('prefecture_code', sa.String(length=2), nullable=False),
    sa.Column('address', sa.String(length=256), nullable=False),
    sa.Column('under_mandate', sa.Boolean(), nullable=False),
    sa.Column('card_reader_applied_on', sa.Date(), nullable=True),
    sa.Column('ready_on', sa.Date(), nullable=True),
    sa.Column('operating_on', sa.Date(), nullable=True),
    sa.Column('created_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("(length(code) = 10) AND replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(code, '0', ''), '1', ''), '2', ''), '3', ''), '4', ''), '5', ''), '6', ''), '7', ''), '8', ''), '9', '') = ''", name=op.f('ck_institutions_code_digits')),
    sa.CheckConstraint("kind IN ('hospital', 'medical_clinic', 'dental_clinic', 'pharmacy')", name=op.f('ck_institutions_kind')),
    sa.CheckConstraint("length(prefecture_code) = 2 AND prefecture_code BETWEEN '01' AND '47'", name=op.f('ck_institutions_prefecture_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institutions')),
    sa.UniqueConstraint('code', name=op.f('uq_institutions_code'))
    )
    op.create_index('ix_institutions_prefecture_kind', 'institutions', ['prefecture_code', 'kind'], unique=False)
    op.create_table('insurers',
    sa.Column('number', sa.String(length=8), nullable=False),
    sa.Column('name', sa.String(length=128), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('prefecture_code', sa.String(length=2), nullable=False),
    sa.Column('houbetsu', sa.String(length=2), nullable=True),
    sa.Column('created_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("(length(houbetsu) = 2) AND replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(houbetsu, '0', ''), '1', ''), '2', ''), '3', ''), '4', ''), '5', ''), '6', ''), '7', ''), '8', ''), '9', '') = ''", name=op.f('ck_insurers_houbetsu_digits')),
    sa.CheckConstraint("(length(number) = 6 OR length(number) = 8) AND replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(number, '0', ''), '1', ''), '2', ''), '3', ''), '4', ''), '5', ''), '6', ''), '7', ''), '8', ''), '9', '') = ''", name=op.f('ck_insurers_number_digits')),
    sa.CheckConstraint("kind IN ('kyokai_kenpo', 'kenpo_kumiai', 'kyosai', 'shichoson_kokuho', 'kokuho_kumiai', 'koki_koreisha')", name=op.f('ck_insurers_kind')),
    sa.CheckConstraint("length(prefecture_code) = 2 AND prefecture_code BETWEEN '01' AND '47'", name=op.f('ck_insurers_prefecture_code')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_insurers')),
    sa.UniqueConstraint('number', name=op.f('uq_insurers_number'))
    )
    op.create_table('persons',
    sa.Column('family_name', sa.String(length=64), nullable=False),
    sa.Column('given_name', sa.String(length=64), nullable=False),
    sa.Column('family_name_kana', sa.String(length=128), nullable=False),
    sa.Column('given_name_kana', sa.String(length=128), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('postal_code', sa.String(length=7), nullable=True),
    sa.Column('address', sa.String(length=256), nullable=False),
    sa.Column('prefecture_code', sa.String(length=2), nullable=False),
    sa.Column('my_number_hash', sa.String(length=64), nullable=True),
    sa.Column('created_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("(length(postal_code) = 7) AND replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(postal_code, '0', ''), '1', ''), '2', ''), '3', ''), '4', ''), '5', ''), '6', ''), '7', ''), '8', ''), '9', '') = ''", name=op.f('ck_persons_postal_code_digits')),
    sa.CheckConstraint("length(prefecture_code) = 2 AND prefecture_code BETWEEN '01' AND '47'", name=op.f('ck_persons_prefecture_code')),
    sa.CheckConstraint("sex IN ('1', '2', '3')", name=op.f('ck_persons_sex')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_persons')),
    sa.UniqueConstraint('my_number_hash', name=op.f('uq_persons_my_number_hash'))
    )
    op.create_index('ix_persons_birth_date_kana', 'persons', ['birth_date', 'family_name_kana', 'given_name_kana'], unique=False)
    op.create_table('sign_in_attempts',
    sa.Column('key', sa.String(length=128), nullable=False),
    sa.Column('attempted_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('succeeded', sa.Boolean(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sign_in_attempts'))
    )
    op.create_index('ix_sign_in_attempts_key_attempted_at', 'sign_in_attempts', ['key', 'attempted_at'], unique=False)
    op.create_table('simulated_resident_registry',
    sa.Column('my_number_hash', sa.String(length=64), nullable=False),
    sa.Column('family_name', sa.String(length=64), nullable=False),
    sa.Column('given_name', sa.String(length=64), nullable=False),
    sa.Column('family_name_kana', sa.String(length=128), nullable=False),
    sa.Column('given_name_kana', sa.String(length=128), nullable=False),
    sa.Column('birth_date', sa.Date(), nullable=False),
    sa.Column('sex', sa.String(length=1), nullable=False),
    sa.Column('postal_code', sa.String(length=7), nullable=True),
    sa.Column('address', sa.String(length=256), nullable=False),
    sa.Column('prefecture_code', sa.String(length=2), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("(length(postal_code) = 7) AND replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(postal_code, '0', ''), '1', ''), '2', ''), '3', ''), '4', ''), '5', ''), '6', ''), '7', ''), '8', ''), '9', '') = ''", name=op.f('ck_simulated_resident_registry_postal_code_digits')),
    sa.CheckConstraint("length(prefecture_code) = 2 AND prefecture_code BETWEEN '01' AND '47'", name=op.f('ck_simulated_resident_registry_prefecture_code')),
    sa.CheckConstraint("sex IN ('1', '2', '3')", name=op.f('ck_simulated_resident_registry_sex')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_simulated_resident_registry')),
    sa.UniqueConstraint('my_number_hash', name=op.f('uq_simulated_resident_registry_my_number_hash'))
    )
    op.create_table('web_sessions',
    sa.Column('token_hash', sa.String(length=64), nullable=False),
    sa.Column('subject_kind', sa.String(length=7), nullable=False),
    sa.Column('subject_id', sa.BigInteger(), nullable=False),
    sa.Column('created_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_seen_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', onshi.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('lang', sa.String(length=5), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("lang IN ('ja', 'en')", name=op.f('ck_web_sessions_lang')),
    sa.CheckConstraint("subject_kind IN ('staff', 'patient')", name=op.f('ck_web_sessions_subject_kind')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_web_sessions')),
    sa.UniqueConstraint('token_hash', name=op.f('uq_web_sessions_token_hash'))
    )
    op.create_index('ix_web_sessions_expires_at', 'web_sessions', ['expires_at'], unique=False)
    op.create_index('ix_web_sessions_subject', 'web_sessions', ['subject_kind', 'subject_id'], unique=False)
    op.create_table('card_certificate_links',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('certificate_issuer', sa.String(length=512), nullable=False),
    sa.Column('certificate_serial', sa.String(length=64), nullable=False),
    sa.Column('fingerprint_sha256', sa.String(length=64), nullable=False),
    sa.Column('not_before', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('not_after', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('linked_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('unlinked_at', onshi.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint('not_before < not_after', name=op.f('ck_card_certificate_links_validity_order')),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_card_certificate_links_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_card_certificate_links')),
    sa.UniqueConstraint('fingerprint_sha256', name=op.f('uq_card_certificate_links_fingerprint_sha256'))
    )
    op.create_index('ix_card_certificate_links_issuer_serial', 'card_certificate_links', ['certificate_issuer', 'certificate_serial'], unique=False)
    op.create_index(op.f('ix_card_certificate_links_person_id'), 'card_certificate_links', ['person_id'], unique=False)
    op.create_table('clinical_records',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('institution_name', sa.String(length=128), nullable=False),
    sa.Column('visit_on', sa.Date(), nullable=False),
    sa.Column('category', sa.String(length=10), nullable=False),
    sa.Column('item_code', sa.String(length=16), nullable=False),
    sa.Column('item_name', sa.String(length=256), nullable=False),
    sa.Column('inpatient', sa.Boolean(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("category IN ('medication', 'test', 'surgery', 'dialysis', 'transplant', 'procedure', 'imaging')", name=op.f('ck_clinical_records_category')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_clinical_records_institution_id_institutions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_clinical_records_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_clinical_records'))
    )
    op.create_index('ix_clinical_records_person_visit', 'clinical_records', ['person_id', 'visit_on'], unique=False)
    op.create_table('drug_records',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('dispensed_on', sa.Date(), nullable=False),
    sa.Column('claim_month', sa.Date(), nullable=True),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('institution_name', sa.String(length=128), nullable=False),
    sa.Column('prescribing_institution_name', sa.String(length=128), nullable=True),
    sa.Column('drug_code', sa.String(length=12), nullable=False),
    sa.Column('drug_name', sa.String(length=256), nullable=False),
    sa.Column('quantity', sa.Float(), nullable=False),
    sa.Column('unit', sa.String(length=16), nullable=False),
    sa.Column('days', sa.Integer(), nullable=True),
    sa.Column('source', sa.String(length=14), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("source IN ('claim', 'e_prescription')", name=op.f('ck_drug_records_source')),
    sa.CheckConstraint('days IS NULL OR days > 0', name=op.f('ck_drug_records_days_positive')),
    sa.CheckConstraint('length(drug_code) = 12', name=op.f('ck_drug_records_drug_code_yj')),
    sa.CheckConstraint('quantity > 0', name=op.f('ck_drug_records_quantity_positive')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_drug_records_institution_id_institutions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_drug_records_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_drug_records'))
    )
    op.create_index('ix_drug_records_person_dispensed', 'drug_records', ['person_id', 'dispensed_on'], unique=False)
    op.create_table('health_check_records',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('insurer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('checked_on', sa.Date(), nullable=False),
    sa.Column('institution_name', sa.String(length=128), nullable=False),
    sa.Column('height_cm', sa.Float(), nullable=True),
    sa.Column('weight_kg', sa.Float(), nullable=True),
    sa.Column('bmi', sa.Float(), nullable=True),
    sa.Column('waist_cm', sa.Float(), nullable=True),
    sa.Column('systolic', sa.Integer(), nullable=True),
    sa.Column('diastolic', sa.Integer(), nullable=True),
    sa.Column('hba1c', sa.Float(), nullable=True),
    sa.Column('fasting_glucose', sa.Integer(), nullable=True),
    sa.Column('triglycerides', sa.Integer(), nullable=True),
    sa.Column('hdl', sa.Integer(), nullable=True),
    sa.Column('ldl', sa.Integer(), nullable=True),
    sa.Column('ast', sa.Integer(), nullable=True),
    sa.Column('alt', sa.Integer(), nullable=True),
    sa.Column('ggt', sa.Integer(), nullable=True),
    sa.Column('urine_glucose', sa.String(length=4), nullable=True),
    sa.Column('urine_protein', sa.String(length=4), nullable=True),
    sa.Column('on_bp_medication', sa.Boolean(), nullable=True),
    sa.Column('on_glucose_medication', sa.Boolean(), nullable=True),
    sa.Column('on_lipid_medication', sa.Boolean(), nullable=True),
    sa.Column('smoker', sa.Boolean(), nullable=True),
    sa.Column('metabolic_judgement', sa.String(length=1), nullable=True),
    sa.Column('guidance_level', sa.String(length=1), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("guidance_level IN ('1', '2', '3', '4')", name=op.f('ck_health_check_records_guidance_level')),
    sa.CheckConstraint("metabolic_judgement IN ('1', '2', '3', '4')", name=op.f('ck_health_check_records_metabolic_judgement')),
    sa.ForeignKeyConstraint(['insurer_id'], ['insurers.id'], name=op.f('fk_health_check_records_insurer_id_insurers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_health_check_records_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_health_check_records'))
    )
    op.create_index('ix_health_check_records_person_checked', 'health_check_records', ['person_id', 'checked_on'], unique=False)
    op.create_table('institution_patient_numbers',
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('number', sa.String(length=32), nullable=False),
    sa.Column('created_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint('length(number) >= 1', name=op.f('ck_institution_patient_numbers_number_not_empty')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_institution_patient_numbers_institution_id_institutions'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_institution_patient_numbers_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_institution_patient_numbers')),
    sa.UniqueConstraint('institution_id', 'number', name=op.f('uq_institution_patient_numbers_institution_id_number')),
    sa.UniqueConstraint('institution_id', 'person_id', name=op.f('uq_institution_patient_numbers_institution_id_person_id'))
    )
    op.create_table('medical_expense_records',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('insurer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('institution_name', sa.String(length=128), nullable=False),
    sa.Column('service_month', sa.Date(), nullable=False),
    sa.Column('care_type', sa.String(length=10), nullable=False),
    sa.Column('days', sa.Integer(), nullable=False),
    sa.Column('total_yen', sa.Integer(), nullable=False),
    sa.Column('patient_paid_yen', sa.Integer(), nullable=False),
    sa.Column('available_on', sa.Date(), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("care_type IN ('outpatient', 'inpatient', 'dental', 'pharmacy')", name=op.f('ck_medical_expense_records_care_type')),
    sa.CheckConstraint('available_on > service_month', name=op.f('ck_medical_expense_records_available_after_service')),
    sa.CheckConstraint('days >= 0', name=op.f('ck_medical_expense_records_days_non_negative')),
    sa.CheckConstraint('total_yen >= 0 AND patient_paid_yen >= 0 AND patient_paid_yen <= total_yen', name=op.f('ck_medical_expense_records_amounts')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_medical_expense_records_institution_id_institutions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['insurer_id'], ['insurers.id'], name=op.f('fk_medical_expense_records_insurer_id_insurers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_medical_expense_records_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_medical_expense_records'))
    )
    op.create_index('ix_medical_expense_records_person_month', 'medical_expense_records', ['person_id', 'service_month'], unique=False)
    op.create_table('patient_accounts',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('created_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_sign_in_at', onshi.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_patient_accounts_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_accounts')),
    sa.UniqueConstraint('person_id', name=op.f('uq_patient_accounts_person_id'))
    )
    op.create_table('qualifications',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('insurer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('card_class', sa.String(length=2), nullable=False),
    sa.Column('symbol', sa.String(length=38), nullable=True),
    sa.Column('number', sa.String(length=38), nullable=False),
    sa.Column('branch', sa.String(length=2), nullable=True),
    sa.Column('symbol_key', sa.String(length=38), nullable=False),
    sa.Column('number_key', sa.String(length=38), nullable=False),
    sa.Column('relationship', sa.String(length=1), nullable=False),
    sa.Column('acquired_on', sa.Date(), nullable=False),
    sa.Column('lost_on', sa.Date(), nullable=True),
    sa.Column('loss_reason', sa.String(length=2), nullable=True),
    sa.Column('issued_on', sa.Date(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('copayment_ratio', sa.String(length=3), nullable=False),
    sa.Column('preschool', sa.Boolean(), nullable=False),
    sa.Column('elderly_certificate_ratio', sa.String(length=3), nullable=True),
    sa.Column('elderly_certificate_valid_from', sa.Date(), nullable=True),
    sa.Column('elderly_certificate_valid_to', sa.Date(), nullable=True),
    sa.Column('notified_on', sa.Date(), nullable=True),
    sa.Column('registered_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('five_item_status', sa.String(length=11), nullable=False),
    sa.Column('created_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("(length(branch) = 2) AND replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(branch, '0', ''), '1', ''), '2', ''), '3', ''), '4', ''), '5', ''), '6', ''), '7', ''), '8', ''), '9', '') = ''", name=op.f('ck_qualifications_branch_digits')),
    sa.CheckConstraint("(length(card_class) = 2) AND replace(replace(replace(replace(replace(replace(replace(replace(replace(replace(card_class, '0', ''), '1', ''), '2', ''), '3', ''), '4', ''), '5', ''), '6', ''), '7', ''), '8', ''), '9', '') = ''", name=op.f('ck_qualifications_card_class_digits')),
    sa.CheckConstraint("copayment_ratio IN ('010', '020', '030')", name=op.f('ck_qualifications_copayment_ratio')),
    sa.CheckConstraint("elderly_certificate_ratio IN ('010', '020', '030')", name=op.f('ck_qualifications_elderly_certificate_ratio')),
    sa.CheckConstraint("five_item_status IN ('pending', 'matched', 'failed', 'not_checked')", name=op.f('ck_qualifications_five_item_status')),
    sa.CheckConstraint("loss_reason IN ('01', '02', '03', '99')", name=op.f('ck_qualifications_loss_reason')),
    sa.CheckConstraint("relationship IN ('1', '2')", name=op.f('ck_qualifications_relationship')),
    sa.CheckConstraint('(elderly_certificate_ratio IS NULL) = (elderly_certificate_valid_from IS NULL)', name=op.f('ck_qualifications_elderly_certificate_complete')),
    sa.CheckConstraint('(lost_on IS NULL AND loss_reason IS NULL) OR lost_on IS NOT NULL', name=op.f('ck_qualifications_loss_reason_needs_loss')),
    sa.CheckConstraint('lost_on IS NULL OR lost_on >= acquired_on', name=op.f('ck_qualifications_loss_after_acquisition')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_qualifications_validity_order')),
    sa.ForeignKeyConstraint(['insurer_id'], ['insurers.id'], name=op.f('fk_qualifications_insurer_id_insurers'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_qualifications_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_qualifications'))
    )
    op.create_index('ix_qualifications_five_item_status', 'qualifications', ['insurer_id', 'five_item_status'], unique=False)
    op.create_index('ix_qualifications_lookup', 'qualifications', ['insurer_id', 'symbol_key', 'number_key', 'branch'], unique=False)
    op.create_index('ix_qualifications_person_acquired', 'qualifications', ['person_id', 'acquired_on'], unique=False)
    op.create_table('reader_devices',
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('label', sa.String(length=64), nullable=False),
    sa.Column('public_key', sa.LargeBinary(length=32), nullable=False),
    sa.Column('status', sa.String(length=7), nullable=False),
    sa.Column('mode', sa.String(length=10), nullable=False),
    sa.Column('paired_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('revoked_at', onshi.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('last_seen_at', onshi.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("(status = 'revoked') = (revoked_at IS NOT NULL)", name=op.f('ck_reader_devices_revoked_has_time')),
    sa.CheckConstraint("mode IN ('unattended', 'visual')", name=op.f('ck_reader_devices_mode')),
    sa.CheckConstraint("status IN ('active', 'revoked')", name=op.f('ck_reader_devices_status')),
    sa.CheckConstraint('length(public_key) = 32', name=op.f('ck_reader_devices_public_key_ed25519')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_reader_devices_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_reader_devices'))
    )
    op.create_index(op.f('ix_reader_devices_institution_id'), 'reader_devices', ['institution_id'], unique=False)
    op.create_table('staff_accounts',
    sa.Column('login_id', sa.String(length=64), nullable=False),
    sa.Column('display_name', sa.String(length=128), nullable=False),
    sa.Column('password_hash', sa.String(length=255), nullable=False),
    sa.Column('role', sa.String(length=16), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('insurer_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('is_institution_admin', sa.Boolean(), nullable=False),
    sa.Column('emergency_permission', sa.Boolean(), nullable=False),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('created_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_sign_in_at', onshi.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("emergency_permission = false OR role IN ('dentist', 'doctor', 'pharmacist')", name=op.f('ck_staff_accounts_emergency_permission_qualified')),
    sa.CheckConstraint("role <> 'administrator' OR (insurer_id IS NULL AND institution_id IS NULL)", name=op.f('ck_staff_accounts_administrator_unattached')),
    sa.CheckConstraint("role <> 'insurer_operator' OR (insurer_id IS NOT NULL AND institution_id IS NULL)", name=op.f('ck_staff_accounts_insurer_operator_insurer')),
    sa.CheckConstraint("role IN ('reception', 'doctor', 'dentist', 'pharmacist', 'insurer_operator', 'administrator')", name=op.f('ck_staff_accounts_role')),
    sa.CheckConstraint("role NOT IN ('dentist', 'doctor', 'pharmacist', 'reception') OR (institution_id IS NOT NULL AND insurer_id IS NULL)", name=op.f('ck_staff_accounts_clinic_role_institution')),
    sa.CheckConstraint('is_institution_admin = false OR institution_id IS NOT NULL', name=op.f('ck_staff_accounts_institution_admin_institution')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_staff_accounts_institution_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['insurer_id'], ['insurers.id'], name=op.f('fk_staff_accounts_insurer_id_insurers'), ondelete='RESTRICT'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_staff_accounts')),
    sa.UniqueConstraint('login_id', name=op.f('uq_staff_accounts_login_id'))
    )
    op.create_index(op.f('ix_staff_accounts_institution_id'), 'staff_accounts', ['institution_id'], unique=False)
    op.create_index(op.f('ix_staff_accounts_insurer_id'), 'staff_accounts', ['insurer_id'], unique=False)
    op.create_table('limit_certifications',
    sa.Column('qualification_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('category', sa.String(length=2), nullable=False),
    sa.Column('class_code', sa.String(length=3), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("category IN ('01', '02', '03')", name=op.f('ck_limit_certifications_category')),
    sa.CheckConstraint("class_code IN ('A01', 'A02', 'A03', 'A04', 'A05', 'A06', 'B01', 'B02', 'B03', 'B04', 'B05', 'B06', 'B07', 'B08', 'B09', 'B10')", name=op.f('ck_limit_certifications_class_code')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_limit_certifications_validity_order')),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualifications.id'], name=op.f('fk_limit_certifications_qualification_id_qualifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_limit_certifications'))
    )
    op.create_index(op.f('ix_limit_certifications_qualification_id'), 'limit_certifications', ['qualification_id'], unique=False)
    op.create_table('pairing_codes',
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('created_by_staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', onshi.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('device_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['created_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_pairing_codes_created_by_staff_id_staff_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['device_id'], ['reader_devices.id'], name=op.f('fk_pairing_codes_device_id_reader_devices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_pairing_codes_institution_id_institutions'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_pairing_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_pairing_codes_code_hash'))
    )
    op.create_index('ix_pairing_codes_institution_expires', 'pairing_codes', ['institution_id', 'expires_at'], unique=False)
    op.create_table('passkey_credentials',
    sa.Column('patient_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('credential_id', sa.LargeBinary(length=1023), nullable=False),
    sa.Column('public_key', sa.LargeBinary(), nullable=False),
    sa.Column('sign_count', sa.BigInteger(), nullable=False),
    sa.Column('transports', sa.String(length=128), nullable=False),
    sa.Column('aaguid', sa.String(length=36), nullable=True),
    sa.Column('nickname', sa.String(length=64), nullable=False),
    sa.Column('created_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('last_used_at', onshi.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint('sign_count >= 0', name=op.f('ck_passkey_credentials_sign_count_non_negative')),
    sa.ForeignKeyConstraint(['patient_account_id'], ['patient_accounts.id'], name=op.f('fk_passkey_credentials_patient_account_id_patient_accounts'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_passkey_credentials')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_passkey_credentials_credential_id'))
    )
    op.create_index(op.f('ix_passkey_credentials_patient_account_id'), 'passkey_credentials', ['patient_account_id'], unique=False)
    op.create_table('patient_enrolment_codes',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('code_hash', sa.String(length=64), nullable=False),
    sa.Column('issued_by_staff_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('created_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('used_at', onshi.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.ForeignKeyConstraint(['issued_by_staff_id'], ['staff_accounts.id'], name=op.f('fk_patient_enrolment_codes_issued_by_staff_id_staff_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_patient_enrolment_codes_person_id_persons'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_patient_enrolment_codes')),
    sa.UniqueConstraint('code_hash', name=op.f('uq_patient_enrolment_codes_code_hash'))
    )
    op.create_index(op.f('ix_patient_enrolment_codes_person_id'), 'patient_enrolment_codes', ['person_id'], unique=False)
    op.create_table('specific_disease_certificates',
    sa.Column('qualification_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('disease', sa.String(length=1), nullable=False),
    sa.Column('monthly_limit_yen', sa.Integer(), nullable=False),
    sa.Column('valid_from', sa.Date(), nullable=False),
    sa.Column('valid_to', sa.Date(), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("disease IN ('1', '2', '3')", name=op.f('ck_specific_disease_certificates_disease')),
    sa.CheckConstraint('monthly_limit_yen >= 0', name=op.f('ck_specific_disease_certificates_monthly_limit_yen_non_negative')),
    sa.CheckConstraint('valid_to IS NULL OR valid_to >= valid_from', name=op.f('ck_specific_disease_certificates_validity_order')),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualifications.id'], name=op.f('fk_specific_disease_certificates_qualification_id_qualifications'), ondelete='CASCADE'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_specific_disease_certificates'))
    )
    op.create_index(op.f('ix_specific_disease_certificates_qualification_id'), 'specific_disease_certificates', ['qualification_id'], unique=False)
    op.create_table('verification_events',
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('device_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('staff_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('method', sa.String(length=15), nullable=False),
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('qualification_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('result_code', sa.SmallInteger(), nullable=True),
    sa.Column('error_code', sa.String(length=64), nullable=True),
    sa.Column('occurred_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("method IN ('card_pin', 'card_face', 'card_visual', 'symbol_number', 'batch', 'smartphone', 'petition', 'offline_capture')", name=op.f('ck_verification_events_method')),
    sa.CheckConstraint('result_code BETWEEN 1 AND 5', name=op.f('ck_verification_events_result_code')),
    sa.ForeignKeyConstraint(['device_id'], ['reader_devices.id'], name=op.f('fk_verification_events_device_id_reader_devices'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_verification_events_institution_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_verification_events_person_id_persons'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['qualification_id'], ['qualifications.id'], name=op.f('fk_verification_events_qualification_id_qualifications'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['staff_account_id'], ['staff_accounts.id'], name=op.f('fk_verification_events_staff_account_id_staff_accounts'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_verification_events'))
    )
    op.create_index('ix_verification_events_institution_occurred', 'verification_events', ['institution_id', 'occurred_at'], unique=False)
    op.create_index('ix_verification_events_occurred_at', 'verification_events', ['occurred_at'], unique=False)
    op.create_index(op.f('ix_verification_events_person_id'), 'verification_events', ['person_id'], unique=False)
    op.create_table('consents',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('verification_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('kind', sa.String(length=13), nullable=False),
    sa.Column('value', sa.String(length=1), nullable=False),
    sa.Column('registered_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('expires_at', onshi.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('home_visit', sa.Boolean(), nullable=False),
    sa.Column('archived_at', onshi.db.types.UTCDateTime(timezone=True), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("kind IN ('health_check', 'drug', 'clinical', 'surgery', 'comprehensive', 'limit_info')", name=op.f('ck_consents_kind')),
    sa.CheckConstraint("value IN ('0', '1', '2', '3')", name=op.f('ck_consents_value')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_consents_institution_id_institutions'), ondelete='RESTRICT'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_consents_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['verification_event_id'], ['verification_events.id'], name=op.f('fk_consents_verification_event_id_verification_events'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_consents'))
    )
    op.create_index(op.f('ix_consents_institution_id'), 'consents', ['institution_id'], unique=False)
    op.create_index('ix_consents_person_institution_kind_expires', 'consents', ['person_id', 'institution_id', 'kind', 'expires_at'], unique=False)
    op.create_table('data_access_log',
    sa.Column('person_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=False),
    sa.Column('institution_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('staff_account_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('data_kind', sa.String(length=13), nullable=False),
    sa.Column('purpose', sa.String(length=9), nullable=False),
    sa.Column('occurred_at', onshi.db.types.UTCDateTime(timezone=True), nullable=False),
    sa.Column('verification_event_id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), nullable=True),
    sa.Column('id', sa.BigInteger().with_variant(sa.Integer(), 'sqlite'), autoincrement=True, nullable=False),
    sa.CheckConstraint("data_kind IN ('drug', 'health_check', 'clinical', 'expense', 'qualification')", name=op.f('ck_data_access_log_data_kind')),
    sa.CheckConstraint("purpose IN ('normal', 'emergency', 'disaster', 'self')", name=op.f('ck_data_access_log_purpose')),
    sa.ForeignKeyConstraint(['institution_id'], ['institutions.id'], name=op.f('fk_data_access_log_institution_id_institutions'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['person_id'], ['persons.id'], name=op.f('fk_data_access_log_person_id_persons'), ondelete='CASCADE'),
    sa.ForeignKeyConstraint(['staff_account_id'], ['staff_accounts.id'], name=op.f('fk_data_access_log_staff_account_id_staff_accounts'), ondelete='SET NULL'),
    sa.ForeignKeyConstraint(['verification_event_id'], ['verification_events.id'], name=op.f('fk_data_access_log_verification_event_id_verification_events'), ondelete='SET NULL'),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_data_access_log'))
    )
    op.create_index('ix_data_access_log_institution_occurred', 'data_access_log', ['institution_id', 'occurred_at'], unique=False)
    op.create_index('ix_data_access_log_person_occurred', 'data_access_log', ['person_id', 'occurred_at'], unique=False)


def downgrade() -> None:
    op.drop_index('ix_data_access_log_person_occurred', table_name='data_access_log')
    op.drop_index('ix_data_access_log_institution_occurred', table_name='data_access_log')
    op.drop_table('data_access_log')
    op.drop_index('ix_consents_person_institution_kind_expires', table_name='consents')
    op.drop_index(op.f('ix_consents_institution_id'), table_name='consents')
    op.drop_table('consents')
    op.drop_index(op.f('ix_verification_events_person_id'), table_name='verification_events')
    op.drop_index('ix_verification_events_occurred_at', table_name='verification_events')
    op.drop_index('ix_verification_events_institution_occurred', table_name='verification_events')
    op.drop_table('verification_events')
    op.drop_index(op.f('ix_specific_disease_certificates_qualification_id'), table_name='specific_disease_certificates')
    op.drop_table('specific_disease_certificates')
    op.drop_index(op.f('ix_patient_enrolment_codes_person_id'), table_name='patient_enrolment_codes')
    op.drop_table('patient_enrolment_codes')
    op.drop_index(op.f('ix_passkey_credentials_patient_account_id'), table_name='passkey_credentials')
    op.drop_table('passkey_credentials')
    op.drop_index('ix_pairing_codes_institution_expires', table_name='pairing_codes')
    op.drop_table('pairing_codes')
    op.drop_index(op.f('ix_limit_certifications_qualification_id'), table_name='limit_certifications')
    op.drop_table('limit_certifications')
    op.drop_index(op.f('ix_staff_accounts_insurer_id'), table_name='staff_accounts')
    op.drop_index(op.f('ix_staff_accounts_institution_id'), table_name='staff_accounts')
    op.drop_table('staff_accounts')
    op.drop_index(op.f('ix_reader_devices_institution_id'), table_name='reader_devices')
    op.drop_table('reader_devices')
    op.drop_index('ix_qualifications_person_acquired', table_name='qualifications')
    op.drop_index('ix_qualifications_lookup', table_name='qualifications')
    op.drop_index('ix_qualifications_five_item_status', table_name='qualifications')
    op.drop_table('qualifications')
    op.drop_table('patient_accounts')
    op.drop_index('ix_medical_expense_records_person_month', table_name='medical_expense_records')
    op.drop_table('medical_expense_records')
    op.drop_table('institution_patient_numbers')
    op.drop_index('ix_health_check_records_person_checked', table_name='health_check_records')
    op.drop_table('health_check_records')
    op.drop_index('ix_drug_records_person_dispensed', table_name='drug_records')
    op.drop_table('drug_records')
    op.drop_index('ix_clinical_records_person_visit', table_name='clinical_records')
    op.drop_table('clinical_records')
    op.drop_index(op.f('ix_card_certificate_links_person_id'), table_name='card_certificate_links')
    op.drop_index('ix_card_certificate_links_issuer_serial', table_name='card_certificate_links')
    op.drop_table('card_certificate_links')
    op.drop_index('ix_web_sessions_subject', table_name='web_sessions')
    op.drop_index('ix_web_sessions_expires_at', table_name='web_sessions')
    op.drop_table('web_sessions')
    op.drop_table('simulated_resident_registry')
    op.drop_index('ix_sign_in_attempts_key_attempted_at', table_name='sign_in_attempts')
    op.drop_table('sign_in_attempts')
    op.drop_index('ix_persons_birth_date_kana', table_name='persons')
    op.drop_table('persons')
    op.drop_table('insurers')
    op.drop_index('ix_institutions_prefecture_kind', table_name='institutions')
    op.drop_table('institutions')
    op.drop_index('ix_audit_events_person_occurred', table_name='audit_events')
    op.drop_index('ix_audit_events_occurred_at', table_name='audit_events')
    op.drop_index('ix_audit_events_object', table_name='audit_events')
    op.drop_index('ix_audit_events_institution_occurred', table_name='audit_events')
    op.drop_table('audit_events')
    op.drop_table('audit_chain_head')
