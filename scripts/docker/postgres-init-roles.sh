#!/bin/sh
# Run once by the postgres image on an empty data directory (docker-entrypoint-initdb.d). Two roles (D3): the owner
# migrates and owns every table, so only it can alter the audit trigger; the runtime role that web, worker and beat
# use gets its rights from `python manage.py grant_runtime_role` after each migrate, and is never an owner.
set -eu
psql -v ON_ERROR_STOP=1 --username "$POSTGRES_USER" --dbname postgres \
    -v owner_password="$WARDFLOW_OWNER_PASSWORD" -v app_password="$WARDFLOW_APP_PASSWORD" <<'SQL'
CREATE ROLE wardflow_owner LOGIN PASSWORD :'owner_password';
CREATE ROLE wardflow_app LOGIN PASSWORD :'app_password';
CREATE DATABASE wardflow OWNER wardflow_owner;
REVOKE ALL ON DATABASE wardflow FROM PUBLIC;
GRANT CONNECT ON DATABASE wardflow TO wardflow_app;
SQL
