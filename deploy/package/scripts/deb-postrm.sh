#!/bin/sh
# carbonio-health: dpkg postrm, as debhelper writes it (dh_installsystemd),
# with the purge's deregistration before deb-systemd-helper forgets the
# unit.
#
# remove: the registrations and /etc/carbonio-health stay; the unit is
#         masked until purge or reinstall, as debhelper does.
# purge:  deregister only what carbonio-health owns (services with Meta
#         managed-by = carbonio-health, and its agent config fragment) with
#         the binary prerm kept, and say how many; no reachable agent is not
#         an error (it says so and goes on). Then forget the unit's
#         enablement and remove /var/lib/carbonio-health. What the admin
#         made (node.hcl, consul.env, the token setup wrote) stays.
set -e

unit=carbonio-health.service
kept=/var/lib/carbonio-health/carbonio-health

if [ "$1" = remove ] && [ -d /run/systemd/system ]; then
	systemctl --system daemon-reload >/dev/null || true
fi

# deb-systemd-helper is in init-system-helpers, which is essential.
if [ "$1" = remove ]; then
	deb-systemd-helper mask "$unit" >/dev/null || true
fi

if [ "$1" = purge ]; then
	if [ -x "$kept" ]; then
		# The daemon's Consul settings (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN_FILE,
		# …): the unit's Environment= kept by prerm, then its EnvironmentFile,
		# which systemd lets override it. Both are root's files.
		if ! (
			set -a
			for env in /var/lib/carbonio-health/consul.env /etc/carbonio-health/consul.env; do
				if [ -r "$env" ]; then . "$env"; fi
			done
			set +a
			timeout 60 "$kept" deregister
		); then
			echo "carbonio-health: could not deregister (is the Consul agent down?);" \
				"services with Meta managed-by=carbonio-health stay in Consul" >&2
		fi
	fi
	deb-systemd-helper purge "$unit" >/dev/null || true
	deb-systemd-helper unmask "$unit" >/dev/null || true
	rm -rf /var/lib/carbonio-health
fi
exit 0
