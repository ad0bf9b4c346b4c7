# vibeshelf API image: `docker build -t vibeshelf .` then see docker-compose.yml.
# Stage 1 builds the virtual environment; stage 2 carries only it and the source it points to.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY src ./src
COPY sample ./sample
RUN python -m venv /opt/venv && /opt/venv/bin/pip install -e .

FROM python:3.11-slim
RUN useradd --create-home --uid 10001 vibeshelf
COPY --from=build /opt/venv /opt/venv
COPY --from=build /app /app
ENV PATH=/opt/venv/bin:$PATH \
    VIBESHELF_DATA_DIR=/data \
    VIBESHELF_LOG_FORMAT=json
RUN mkdir /data && chown vibeshelf /data
USER vibeshelf
WORKDIR /app
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=30s --timeout=3s CMD python -c "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/health/ready', timeout=2)"
CMD ["vibeshelf", "serve", "--host", "0.0.0.0", "--port", "8000", "--workers", "2"]
