"""Piccolo's configuration, found through PICCOLO_CONF=registry.piccolo_conf.

Piccolo imports this lazily, on first query, so the URL is resolved then (see registry.database).
"""

from piccolo.conf.apps import AppRegistry
from piccolo.engine.postgres import PostgresEngine

from registry.database import database_url

DB = PostgresEngine(config={"dsn": database_url()})

APP_REGISTRY = AppRegistry(apps=["registry.piccolo_app"])
