#!/bin/sh
# carbonio-health: dpkg prerm, as debhelper writes it (dh_installsystemd
# --restart-after-upgrade: stop on remove only; an upgrade restarts in
# postinst).
#
# Removing stops the daemon (and the path unit that installs its agent
# config fragment) and leaves its Consul registrations alone: its TTL checks
# expire to critical, which is the alarm that it is gone. Only a purge
# deregisters; dpkg runs postrm purge after the binary and the unit are
# gone, so a copy of the binary and the unit's CONSUL_* environment (the
# agent's address and token file, however the unit sets them) are kept in
# /var/lib/carbonio-health, which only root may write, until the purge.
set -e

unit=carbonio-health.service

if [ "$1" = remove ]; then
	if [ -d /run/systemd/system ]; then
		# What systemd runs the daemon with: read before the unit goes (a
		# query; deb-systemd-helper has no equivalent).
		environment=$(systemctl show --property Environment --value "$unit" 2>/dev/null || true)
		deb-systemd-invoke stop "$unit" carbonio-health-fragment.path >/dev/null || true
	fi
	mkdir -p /var/lib/carbonio-health
	cp -p /usr/bin/carbonio-health /var/lib/carbonio-health/carbonio-health
	printf '%s\n' ${environment-} | grep '^CONSUL_' >/var/lib/carbonio-health/consul.env || true
fi
exit 0
