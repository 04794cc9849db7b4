"""The single Piccolo app `registry`; its migrations live in the top-level `migrations/`."""

from pathlib import Path

from piccolo.conf.apps import AppConfig, table_finder

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"

APP_CONFIG = AppConfig(
    app_name="registry",
    migrations_folder_path=str(MIGRATIONS),
    table_classes=table_finder(
        modules=[
            "registry.tables.catalogue",
            "registry.tables.accounts",
            "registry.tables.calls",
            "registry.tables.proposals",
            "registry.tables.reviews",
            "registry.tables.documents",
            "registry.tables.imports",
        ],
        exclude_imported=True,
    ),
    migration_dependencies=[],
    commands=[],
)
