"""The outside world (外部适配): database tables, repositories, migrations and file formats."""
