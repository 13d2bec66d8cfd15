#!/usr/bin/env bash
# Restore a Quarterdeck backup into a NEW database (never over the live one), then check it:
#   deploy/backup/restore.sh /var/backups/quarterdeck/quarterdeck-20270131T021500Z.dump quarterdeck_restore
# The restore drill (a DR test template in the demo) runs exactly this and times it against its RTO.
set -euo pipefail
dump="${1:?usage: restore.sh <dump file> <new database name>}"
target="${2:?usage: restore.sh <dump file> <new database name>}"
admin="${PG_ADMIN_URL:-postgresql://postgres@127.0.0.1:5432/postgres}"
psql "$admin" -v ON_ERROR_STOP=1 -c "CREATE DATABASE \"$target\""
base="${admin%/*}"
pg_restore --no-owner --exit-on-error --dbname="$base/$target" "$dump"
echo "tables restored:"
psql "$base/$target" -At -c "SELECT count(*) FROM information_schema.tables WHERE table_schema = 'public'"
echo "schema version (must match the running release's migrations head):"
psql "$base/$target" -At -c "SELECT version_num FROM alembic_version"
echo "newest alert and outbox message (how recent the data is):"
psql "$base/$target" -At -c "SELECT max(created_at) FROM alerts; SELECT max(created_at) FROM outbound_messages"
