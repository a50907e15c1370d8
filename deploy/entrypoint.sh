#!/bin/sh
# Entry point of the container image (Dockerfile), also runnable outside a container.
#
#   entrypoint.sh            migrate the database, then serve with gunicorn (docker compose)
#   entrypoint.sh serve      the same; MIGRATE_ON_START=false skips the migration (Kubernetes,
#                            where the migrate Job runs it once for every replica)
#   entrypoint.sh migrate    migrate only, then exit
#   entrypoint.sh CMD ...    run any other command, e.g. python manage.py createsuperuser
#
# Settings come from the environment (README "Deploy"): DATABASE_URL, DJANGO_SECRET_KEY,
# DJANGO_ALLOWED_HOSTS, ..., and gunicorn's in deploy/gunicorn.conf.py (PORT, WEB_CONCURRENCY, ...).
set -eu
cd "$(dirname "$0")/.."

migrate() {
    echo "entrypoint: applying database migrations" >&2
    python manage.py migrate --noinput
}

serve() {
    case "${MIGRATE_ON_START:-true}" in
        true | 1 | yes | on) migrate ;;
        false | 0 | no | off) echo "entrypoint: MIGRATE_ON_START=false, not migrating" >&2 ;;
        *)
            echo "entrypoint: MIGRATE_ON_START must be true or false, not '$MIGRATE_ON_START'" >&2
            exit 2
            ;;
    esac
    # exec: gunicorn becomes the process that receives SIGTERM and shuts down gracefully.
    # Its settings (port, workers, timeouts, recycling, the memory guard) are in the config file.
    exec gunicorn --config deploy/gunicorn.conf.py
}

case "${1:-serve}" in
    serve) serve ;;
    migrate) migrate ;;
    *) exec "$@" ;;
esac
