# syntax=docker/dockerfile:1
# ChatwootAI: the package and its dependencies only (no tests, benchmarks or example domains).
# One image for both processes:
#   docker run ... chatwootai            -> `chatwootai serve` (HTTP on 0.0.0.0:8000)
#   docker run ... chatwootai worker     -> a queue worker (needs Redis)
# Domains are mounted (or copied by a derived image) at /app/domains; the spool lives in /data.
# Build: docker build -t chatwootai .   (extras: --build-arg EXTRAS=anthropic,google)

ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
ARG EXTRAS=""
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/chatwootai
WORKDIR /build
COPY pyproject.toml README.md ./
COPY src ./src
# A wheel first, so the installed package is exactly what a release would ship.
RUN /opt/chatwootai/bin/pip wheel --no-deps --wheel-dir /build/dist . \
    && /opt/chatwootai/bin/pip install "$(ls /build/dist/chatwootai-*.whl)${EXTRAS:+[$EXTRAS]}" \
    && /opt/chatwootai/bin/pip uninstall --yes pip

FROM ${PYTHON_IMAGE} AS runtime
RUN groupadd --system --gid 10001 chatwootai \
    && useradd --system --uid 10001 --gid chatwootai --home-dir /app --shell /usr/sbin/nologin chatwootai \
    && mkdir -p /app/domains /data \
    && chown chatwootai:chatwootai /data
COPY --from=build /opt/chatwootai /opt/chatwootai
ENV PATH=/opt/chatwootai/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    CHATWOOTAI_HOST=0.0.0.0 \
    CHATWOOTAI_PORT=8000 \
    CHATWOOTAI_DOMAINS_DIR=/app/domains \
    CHATWOOTAI_DATA_DIR=/data \
    CHATWOOTAI_LOG_JSON=true
WORKDIR /app
USER chatwootai:chatwootai
VOLUME ["/data"]
EXPOSE 8000
ENTRYPOINT ["chatwootai"]
CMD ["serve"]
