#!/usr/bin/env bash
# Nightly logical backup of the Quarterdeck database: a custom-format pg_dump, checked, kept KEEP_DAYS days.
# Run by quarterdeck-backup.timer; DATABASE_URL comes from /etc/quarterdeck/env.
set -euo pipefail
: "${DATABASE_URL:?DATABASE_URL must be set}"
BACKUP_DIR="${BACKUP_DIR:-/var/backups/quarterdeck}"
KEEP_DAYS="${KEEP_DAYS:-35}"
url="${DATABASE_URL/postgresql+psycopg:/postgresql:}"   # libpq does not know SQLAlchemy's driver suffix
mkdir -p "$BACKUP_DIR"
stamp="$(date -u +%Y%m%dT%H%M%SZ)"
file="$BACKUP_DIR/quarterdeck-$stamp.dump"
pg_dump --format=custom --no-owner --file="$file.partial" "$url"
pg_restore --list "$file.partial" > /dev/null          # a dump that cannot be read is not a backup
mv "$file.partial" "$file"
find "$BACKUP_DIR" -name 'quarterdeck-*.dump' -mtime +"$KEEP_DAYS" -delete
echo "backup written: $file ($(du -h "$file" | cut -f1))"
