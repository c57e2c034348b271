"""Database: engine, declarative base, column types, the request transaction, migrations."""
