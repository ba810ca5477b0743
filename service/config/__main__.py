"""``python -m service.config``: print the README's configuration table."""

from service.config.table import settings_table

print(settings_table())
