"""The migrations are the schema: no table change is left without its migration."""

import pytest
from piccolo.apps.migrations.commands.new import AutoMigrationManager
from piccolo.conf.apps import Finder

pytestmark = [pytest.mark.integration, pytest.mark.usefixtures("catalogue")]


async def test_tables_and_migrations_agree():
    app_config = Finder().get_app_config("registry")

    changes = await AutoMigrationManager(auto_input="y").get_alter_statements(app_config=app_config)

    assert [statement for change in changes for statement in change.statements] == []
