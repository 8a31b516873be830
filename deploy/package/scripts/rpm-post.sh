#!/bin/sh
# carbonio-health: rpm %post (1 = install, 2 = upgrade): what
# %sysusers_create_compat and %systemd_post expand to. The unit is enabled
# by its preset (/usr/lib/systemd/system-preset/80-carbonio-health.preset),
# as RPM distributions enable units; it starts once a node file exists:
# `systemctl start carbonio-health` after writing it.
unit=carbonio-health.service

# %sysusers_create_compat
if [ -x /usr/bin/systemd-sysusers ]; then
	systemd-sysusers carbonio-health.conf || :
elif ! getent passwd carbonio-health >/dev/null; then
	useradd --system --user-group --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin --comment "carbonio-health daemon" carbonio-health || :
fi

# %systemd_post
if [ "$1" -eq 1 ]; then
	if [ -x /usr/lib/systemd/systemd-update-helper ]; then
		/usr/lib/systemd/systemd-update-helper install-system-units "$unit" || :
	else
		systemctl --no-reload preset "$unit" >/dev/null 2>&1 || :
	fi
fi
exit 0
