#!/bin/sh
# carbonio-health: dpkg postrm (remove, purge, upgrade, …) and rpm %postun
# (0 = erase, 1 = upgrade).
#
# remove: the registrations and /etc/carbonio-health stay.
# purge:  deregister only what carbonio-health owns (services with Meta
#         managed-by = carbonio-health, and its agent config fragment), with
#         the binary prerm kept; no reachable agent is not an error (it
#         says so and goes on). Then forget the unit's enablement.
# rpm upgrade: restart a running daemon on the new binary.
set -e

unit=carbonio-health.service
kept=/var/lib/carbonio-health/carbonio-health

case "$1" in
remove)
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null 2>&1 || true
	fi
	if command -v deb-systemd-helper >/dev/null 2>&1; then
		deb-systemd-helper mask "$unit" >/dev/null || true
	fi
	;;
purge)
	if [ -x "$kept" ]; then
		# The daemon's Consul settings (CONSUL_HTTP_ADDR, CONSUL_HTTP_TOKEN_FILE,
		# …): the unit's Environment= kept by prerm, then its EnvironmentFile,
		# which systemd lets override it.
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
	rm -rf /var/lib/carbonio-health
	if command -v deb-systemd-helper >/dev/null 2>&1; then
		deb-systemd-helper purge "$unit" >/dev/null || true
		deb-systemd-helper unmask "$unit" >/dev/null || true
	fi
	;;
0)
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null 2>&1 || true
	fi
	;;
1)
	if [ -d /run/systemd/system ]; then
		systemctl daemon-reload >/dev/null 2>&1 || true
		systemctl try-restart "$unit" >/dev/null 2>&1 || true
	fi
	;;
esac
exit 0
