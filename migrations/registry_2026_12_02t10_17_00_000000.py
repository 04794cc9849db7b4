"""Secrets at rest and enrolment bound to a session.

- `account.totp_secret` becomes text: it now holds a Fernet token (services.totp_seeds), not
  the base32 seed. Seeds stored before stay as they were until `registry totp re-encrypt`
  (run by `registry migrate` after the migrations) encrypts them: a migration runs inside the
  database's world, and the key is kept outside it.
- Seeds offered but never confirmed are dropped: the old enrolment kept one per account and
  showed it to any session, so whoever saw it could have scanned it.
- `web_session.totp_offered`: the seed one session was shown for enrolment (encrypted).
- `outbox_mail.links`: mail bodies hold link markers; tokens are made at delivery.
- `account.must_choose_password`: accounts made by `registry create-user` choose their own
  password at the first sign-in.
"""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Array
from piccolo.columns.column_types import Boolean
from piccolo.columns.column_types import Text
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-02T10:17:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "encrypted TOTP seeds, enrolment per session, first password, mail links"


async def forwards():
    manager = MigrationManager(
        migration_id=ID, app_name="registry", description=DESCRIPTION
    )

    manager.add_column(
        table_class_name="Account",
        tablename="account",
        column_name="must_choose_password",
        db_column_name="must_choose_password",
        column_class_name="Boolean",
        column_class=Boolean,
        params={
            "default": False,
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="OutboxMail",
        tablename="outbox_mail",
        column_name="links",
        db_column_name="links",
        column_class_name="Array",
        column_class=Array,
        params={
            "default": list,
            "base_column": Text(
                default="",
                null=False,
                primary_key=False,
                unique=False,
                index=False,
                index_method=IndexMethod.btree,
                choices=None,
                db_column_name=None,
                secret=False,
            ),
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.add_column(
        table_class_name="WebSession",
        tablename="web_session",
        column_name="totp_offered",
        db_column_name="totp_offered",
        column_class_name="Text",
        column_class=Text,
        params={
            "default": None,
            "null": True,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    manager.alter_column(
        table_class_name="Account",
        tablename="account",
        column_name="totp_secret",
        db_column_name="totp_secret",
        params={},
        old_params={},
        column_class=Text,
        old_column_class=Varchar,
        schema=None,
    )

    async def forget_unconfirmed_seeds():
        from registry.database import connection

        async with connection() as conn:
            await conn.execute(
                "UPDATE account SET totp_secret = NULL "
                "WHERE totp_enrolled_at IS NULL AND totp_secret IS NOT NULL"
            )

    manager.add_raw(forget_unconfirmed_seeds)
    return manager
