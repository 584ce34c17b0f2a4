#!/bin/sh
# A fake `reboot` for rebootd tests. It records when the reboot starts and ends in $FAKE_LOG, clears the
# reboot-needed file (as /var/run is emptied by a real boot), changes the boot ID, and then takes the
# machine down by killing the agent (the test starts it again: the "boot").
#   FAKE_MODE=die      the machine dies mid-reboot and never comes back: record the start, kill the agent
#   FAKE_MODE=hang     the reboot never takes the machine down (the command just sleeps)
#   FAKE_SECONDS=N     how long the reboot takes (default 0.5)
now() { date +%s%3N; }
echo "start $CAIRN_REBOOTD_ID $(now)" >> "$FAKE_LOG"
if [ "$FAKE_MODE" = "hang" ]; then
  exec sleep 30
fi
if [ "$FAKE_MODE" = "die" ]; then
  kill -9 "$CAIRN_REBOOTD_PID"
  exit 0
fi
sleep "${FAKE_SECONDS:-0.5}"
rm -f "$FAKE_NEEDED"
echo "boot-$(now)-$$" > "$FAKE_BOOT_ID"
echo "end $CAIRN_REBOOTD_ID $(now)" >> "$FAKE_LOG"
kill -9 "$CAIRN_REBOOTD_PID"
