# The userbus image: the CLI, the worker runtime and the example apps.
FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
WORKDIR /app
COPY pyproject.toml README.md ./
COPY schemas ./schemas
COPY handlers ./handlers
COPY broker ./broker
RUN pip install --no-cache-dir '.[speed]' && useradd --system --uid 10001 userbus
USER userbus
ENTRYPOINT ["userbus"]
CMD ["--help"]
