# The advisor's production image: gunicorn behind deploy/entrypoint.sh, static files served by
# whitenoise, settings from the environment (README "Deploy"). Build: docker build -t advisor .
FROM python:3.13-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app

# The pinned dependencies from pyproject.toml first: this layer is rebuilt only when they change.
COPY pyproject.toml ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && rm /tmp/requirements.txt

# Then the project itself, installed from pyproject.toml (its dependencies are already there).
# It runs from /app, where manage.py, templates/ and static/ live: manage.py and gunicorn put
# /app first on sys.path.
COPY . .
RUN pip install --no-deps . \
    && rm -rf build ./*.egg-info

# Static files are collected at build time with the production storage (compressed copies and
# content-hashed names); the key only satisfies the settings and is not used by the image.
RUN DJANGO_DEBUG=false DJANGO_SECRET_KEY=collectstatic-only-this-key-signs-nothing-at-build-time \
    python manage.py collectstatic --noinput -v0

# Run as an unprivileged user with a numeric id, so Kubernetes' runAsNonRoot can verify it.
RUN groupadd --system --gid 10001 advisor \
    && useradd --system --uid 10001 --gid 10001 --no-create-home --home-dir /nonexistent \
       --shell /usr/sbin/nologin advisor
USER 10001:10001

EXPOSE 8000
ENTRYPOINT ["/app/deploy/entrypoint.sh"]
CMD ["serve"]
