#!/bin/sh
# carbonio-health: dpkg prerm (remove, upgrade, …) and rpm %preun (0 = erase,
# 1 = upgrade).
#
# Removing stops the daemon and leaves its Consul registrations alone: its TTL
# checks expire to critical, which is the alarm that it is gone. Only a purge
# (Debian) deregisters; dpkg runs postrm purge after the binary and the unit
# are gone, so a copy of the binary and the unit's CONSUL_* environment (the
# agent's address and token file, however the unit sets them) are kept for
# that in /var/lib/carbonio-health until the purge.
set -e

unit=carbonio-health.service

case "$1" in
remove | 0)
	if [ -d /run/systemd/system ]; then
		systemctl stop "$unit" >/dev/null 2>&1 || true
	fi
	if [ "$1" = 0 ]; then
		systemctl disable "$unit" >/dev/null 2>&1 || true
	else
		mkdir -p /var/lib/carbonio-health
		cp -p /usr/bin/carbonio-health /var/lib/carbonio-health/carbonio-health
		if [ -d /run/systemd/system ]; then
			systemctl show --property Environment --value "$unit" 2>/dev/null | tr ' ' '\n' |
				grep '^CONSUL_' >/var/lib/carbonio-health/consul.env || true
		fi
	fi
	;;
esac
exit 0
