# medval HTTP service: small (slim base, the wheel built in a throwaway stage), non-root, health-checked.
#   docker build -t medval .
#   docker run -p 8080:8080 -e MEDVAL_WORKERS=2 medval
# Hospital profiles: mount a folder and name it, e.g. -v /etc/medval/profiles:/profiles -e MEDVAL_PROFILE_DIR=/profiles
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY validator ./validator
# The wheel carries the code, the drug profiles and the web page (package data); the venv gets it and its dependencies only.
RUN python -m pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
 && python -m venv /venv \
 && /venv/bin/pip install --no-cache-dir --upgrade pip \
 && /venv/bin/pip install --no-cache-dir /wheels/medval-*.whl

FROM python:3.11-slim
ENV PATH=/venv/bin:$PATH \
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
USER 10001
EXPOSE 8080
# No curl in the slim image: the standard library does the health check.
HEALTHCHECK --interval=15s --timeout=3s --start-period=20s --retries=3 \
  CMD ["python", "-c", "import sys, urllib.request; sys.exit(urllib.request.urlopen('http://127.0.0.1:8080/health', timeout=2).status != 200)"]
CMD ["sh", "-c", "exec medval serve --host 0.0.0.0 --port 8080 --workers \"$MEDVAL_WORKERS\""]
