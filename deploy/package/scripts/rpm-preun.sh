#!/bin/sh
# carbonio-health: rpm %preun (0 = erase, 1 = upgrade): what %systemd_preun
# expands to, for the daemon and the path unit that installs its agent
# config fragment. Erasing stops the daemon and leaves its Consul
# registrations alone (its TTL checks expire to critical: the alarm); rpm
# has no purge: `carbonio-health deregister` first removes them.
if [ "$1" -eq 0 ]; then
	if [ -x /usr/lib/systemd/systemd-update-helper ]; then
		/usr/lib/systemd/systemd-update-helper remove-system-units carbonio-health.service carbonio-health-fragment.path || :
	else
		systemctl --no-reload disable --now carbonio-health.service carbonio-health-fragment.path >/dev/null 2>&1 || :
	fi
fi
exit 0
