#!/bin/sh
# A job for the work tests: records its start and stop (with the machine, a ms timestamp and its pid)
# in $RECORD, and runs until SIGTERM — or until its agent is gone, as the processes of a dead machine
# would be (the tests simulate a machine's death by kill -9 of its agent).
id="$CAIRN_JOB#$CAIRN_REPLICA"
agent=$PPID
record() { echo "$1 $id $CAIRN_MACHINE $(date +%s%3N) $$ $2" >> "$RECORD"; }
trap 'record stop term; exit 0' TERM
record start
while kill -0 "$agent" 2>/dev/null; do sleep 0.5; done
record stop orphaned
