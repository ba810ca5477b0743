# NELM-CDS service image: slim, non-root, gunicorn.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    NELM_CDS_ENV=production \
    NELM_CDS_HOST=0.0.0.0 \
    NELM_CDS_PORT=8080 \
    NELM_CDS_INSTANCE_PATH=/app/var

WORKDIR /app
RUN groupadd --system --gid 10001 nelm \
    && useradd --system --uid 10001 --gid nelm --home-dir /app --shell /usr/sbin/nologin nelm

COPY pyproject.toml README.md gunicorn.conf.py openapi.yaml ./
COPY service ./service
# The instance folder holds the shared state (replay cache, SMART sessions), the feedback
# store and generated keys: a volume the non-root user owns, so it survives restarts.
RUN pip install . && mkdir -p /app/var && chown nelm:nelm /app/var && chmod 0700 /app/var
VOLUME ["/app/var"]

USER nelm
EXPOSE 8080
# Asks the service on NELM_CDS_PORT, wherever it was moved.
HEALTHCHECK --interval=15s --timeout=3s --start-period=10s --retries=3 \
    CMD ["python", "-m", "service.healthcheck"]
CMD ["gunicorn", "-c", "gunicorn.conf.py", "service.app:create_app()"]
