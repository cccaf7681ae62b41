#!/bin/sh
# submit.sh - put one job into a spoold spool by the Maildir rule (POSIX sh).
#
# Usage: submit.sh SPOOL_DIR JOB.json
#
# What a scheduler must do, step by step (README, "How a scheduler submits
# a job"), so that spoold never reads a half-written job:
#
#   1. create SPOOL_DIR/tmp/NAME, failing if it exists (set -C, noclobber),
#      under a NAME no other writer uses: the time (date +%s), this process
#      ($$), the host (uname -n) and a counter, tried again on a clash;
#   2. copy the job into it with dd conv=fsync, so that the data are on disk
#      before the name is visible in new/ (conv=fsync is in GNU coreutils,
#      BusyBox and the BSDs' dd, but not in POSIX: elsewhere use cat, then
#      sync, which flushes everything);
#   3. rename it into SPOOL_DIR/new/ with mv: tmp/ and new/ are on the same
#      file system, so mv is one rename(2) and the job appears whole or not
#      at all (the names are unique, so nothing is replaced);
#   4. make the rename itself durable: sync SPOOL_DIR/new (GNU sync fsyncs
#      the directory it is given; another sync flushes everything).
#
# The job is not checked here (spool submit JOB.json does check it): spoold
# moves a file that is not a valid job to corrupt/ with the reason.  The
# file gets the mode umask allows; spoold's user must be able to read it
# (spool setup makes the spool group-writable for schedulers).
#
# Prints the job's NAME.  Exit status: 0 done; 64 usage; 66 the job file
# cannot be read or is larger than 64 KiB; 73 cannot create in tmp/;
# 74 cannot write, sync or rename.
set -u

usage() {
	echo "usage: submit.sh SPOOL_DIR JOB.json" >&2
	exit 64
}
die() {
	echo "submit.sh: $2" >&2
	[ -n "${tmp:-}" ] && rm -f -- "$tmp"
	exit "$1"
}

[ $# -eq 2 ] || usage
spool=$1 job=$2 tmp=
if [ ! -d "$spool/tmp" ] || [ ! -d "$spool/new" ]; then
	die 66 "$spool: not a spool (no tmp/ and new/)"
fi
if [ ! -f "$job" ] || [ ! -r "$job" ]; then
	die 66 "$job: cannot read the job"
fi
size=$(wc -c <"$job") || die 66 "$job: cannot read the job"
[ "$size" -le 65536 ] || die 66 "$job: larger than 64 KiB ($size bytes)"

# 1. A unique name, created exclusively in tmp/.
host=$(uname -n | tr -c 'A-Za-z0-9.\n-' '-' | tr -d '\n')
now=$(date +%s)
n=0
while :; do
	n=$((n + 1))
	name="$now.P$$Q$n.${host:-localhost}"
	if (set -C && : >"$spool/tmp/$name") 2>/dev/null; then
		tmp="$spool/tmp/$name"
		break
	fi
	[ $n -lt 100 ] || die 73 "cannot create a file in $spool/tmp/"
done

# 2. The data, synced.
dd if="$job" of="$tmp" conv=notrunc,fsync 2>/dev/null || die 74 "$tmp: cannot write or sync"

# 3. Into new/ in one rename.
[ ! -e "$spool/new/$name" ] || die 73 "$spool/new/$name exists already"
mv -- "$tmp" "$spool/new/$name" || die 74 "cannot rename $tmp into $spool/new/"
tmp=

# 4. The rename on disk.
sync -- "$spool/new" 2>/dev/null || sync

echo "$name"
