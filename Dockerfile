FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1
# WeasyPrint (the PDF documents) needs Pango, as its documentation lists for Debian; the fonts ship in documents/.
RUN apt-get update && apt-get install -y --no-install-recommends curl libpango-1.0-0 libpangoft2-1.0-0 \
    libharfbuzz-subset0 && rm -rf /var/lib/apt/lists/*
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY wardflow ./wardflow
COPY alerts ./alerts
COPY screening ./screening
COPY titration ./titration
COPY web ./web
COPY interop ./interop
COPY documents ./documents
RUN pip install --no-cache-dir .
COPY manage.py ./
COPY templates ./templates
# The rules help page and every rule link are read from the protocol itself.
COPY docs ./docs
COPY static ./static
RUN useradd --system --home /app wardflow && chown -R wardflow /app
# D3: the append-only checkpoint file lives outside the database, on its own volume.
RUN mkdir -p /var/lib/wardflow && chown wardflow /var/lib/wardflow
USER wardflow
# collectstatic needs settings, not secrets: a throwaway key for this build step only.
RUN DEBUG=0 SECRET_KEY=build-only-collectstatic-key-not-used-at-runtime-000000000000 \
    python manage.py collectstatic --no-input
EXPOSE 8000
CMD ["gunicorn", "config.wsgi", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
