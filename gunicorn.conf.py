"""gunicorn settings for the container: ``gunicorn -c gunicorn.conf.py 'service.app:create_app()'``.

The values come from :func:`service.serve.gunicorn_settings`, the same ones
``python -m service serve`` uses (bind from NELM_CDS_HOST / NELM_CDS_PORT). A bad
setting prints one line naming it and exits 2, before gunicorn starts.
"""

from service.serve import gunicorn_settings

globals().update(gunicorn_settings())
