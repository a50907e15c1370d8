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
# DJANGO_ALLOWED_HOSTS, ..., and PORT (8000) and WEB_CONCURRENCY (2 gunicorn workers) here.
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
    # No control socket: it would be written under $HOME, which a read-only container lacks.
    exec gunicorn advisor.wsgi:application \
        --bind "0.0.0.0:${PORT:-8000}" \
        --workers "${WEB_CONCURRENCY:-2}" \
        --access-logfile - \
        --no-control-socket
}

case "${1:-serve}" in
    serve) serve ;;
    migrate) migrate ;;
    *) exec "$@" ;;
esac
