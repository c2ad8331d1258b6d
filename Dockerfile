# medval HTTP service: small (slim base, dependencies built in a throwaway stage), non-root, health-checked.
#   docker build -t medval .
#   docker run -p 8080:8080 -e MEDVAL_WORKERS=2 medval
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY validator ./validator
# Only the dependencies go into the venv: the code itself runs from /app, beside profiles/ (validator/../profiles).
RUN python -m venv /venv \
 && /venv/bin/pip install --no-cache-dir --upgrade pip \
 && /venv/bin/pip install --no-cache-dir . \
 && /venv/bin/pip uninstall --yes medval

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
    PYTHONPATH=/app \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    MEDVAL_WORKERS=1 \
    MEDVAL_MAX_BODY_BYTES=5242880 \
    MEDVAL_DATA_DIR=/data
# /data: the default SQLite database (mount a volume, or set MEDVAL_DATABASE_URL to PostgreSQL)
RUN useradd --system --uid 10001 --no-create-home --shell /usr/sbin/nologin medval \
 && mkdir /data && chown 10001 /data
VOLUME /data
COPY --from=build /venv /venv
WORKDIR /app
COPY validator ./validator
COPY profiles ./profiles
USER 10001
EXPOSE 8080
# No curl in the slim image: the standard library does the health check.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2).status != 200)"]
CMD ["sh", "-c", "exec python -m validator.cli serve --host 0.0.0.0 --port 8080 --workers \"$MEDVAL_WORKERS\""]
