#!/bin/sh
# carbonio-health: rpm %postun (0 = erase, 1 = upgrade): what
# %systemd_postun_with_restart expands to: an upgrade restarts a running
# daemon on the new binary (a restart writes nothing that has not changed).
unit=carbonio-health.service
if [ -x /usr/lib/systemd/systemd-update-helper ]; then
	if [ "$1" -ge 1 ]; then
		/usr/lib/systemd/systemd-update-helper mark-restart-system-units "$unit" || :
	fi
else
	systemctl daemon-reload >/dev/null 2>&1 || :
	if [ "$1" -ge 1 ]; then
		systemctl try-restart "$unit" >/dev/null 2>&1 || :
	fi
fi
exit 0
