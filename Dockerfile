# sophia's image: the CLI, and the API it serves (`sophia serve`).
#   docker build -t ghcr.io/sophia/sophia:0.1.0 .
# That reference is what `sophia deploy render` pulls by default (core/deploy/image.py);
# tests/engines/test_image.py checks this file and the manifests agree.

# Build stage: dependencies from the hashed lock (every file checked against its hash), as
# wheels only, so nothing needs a compiler; keyrings-cryptfile ships only a pure-Python sdist.
# Then sophia's own wheel, into one virtualenv that the final stage copies.
FROM python:3.11-slim-bookworm AS build
ENV PIP_DISABLE_PIP_VERSION_CHECK=1 PYTHONDONTWRITEBYTECODE=1
WORKDIR /src
RUN python -m venv /opt/sophia
COPY requirements.lock ./
RUN /opt/sophia/bin/pip install --no-cache-dir --require-hashes \
        --only-binary=:all: --no-binary=keyrings-cryptfile -r requirements.lock
COPY pyproject.toml README.md ./
COPY src ./src
RUN /opt/sophia/bin/pip wheel --no-cache-dir --no-deps --wheel-dir /wheels . \
    && /opt/sophia/bin/pip install --no-cache-dir --no-deps /wheels/*.whl

# Final stage: the virtualenv only (no compiler, no pip cache, no sources), as a non-root user
# whose uid is the one the manifests run as.
FROM python:3.11-slim-bookworm
ARG SOPHIA_VERSION=0.1.0
LABEL org.opencontainers.image.title="sophia" \
      org.opencontainers.image.ref.name="ghcr.io/sophia/sophia:0.1.0" \
      org.opencontainers.image.version="${SOPHIA_VERSION}" \
      org.opencontainers.image.licenses="MIT"
RUN groupadd --system --gid 10001 sophia \
    && useradd --system --uid 10001 --gid 10001 --home-dir /var/lib/sophia --create-home sophia
COPY --from=build /opt/sophia /opt/sophia
ENV PATH="/opt/sophia/bin:${PATH}" \
    PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    SOPHIA_ENV=production \
    SOPHIA_HOME=/var/lib/sophia
WORKDIR /var/lib/sophia
USER 10001:10001
EXPOSE 8000 9100
# /health answers without touching the stores (readiness, /ready, is the orchestrator's).
HEALTHCHECK --interval=30s --timeout=5s --start-period=30s --retries=3 \
    CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health', timeout=4)"]
ENTRYPOINT ["sophia"]
CMD ["serve", "--host", "0.0.0.0", "--port", "8000"]
