#!/bin/sh
# carbonio-health: dpkg postinst (configure [old-version]) and rpm %post
# (1 = install, 2 = upgrade).
#
# Creates the system user, enables the unit, and starts it only when a node
# file already exists (the unit's node-file.conf drop-in keeps it from
# starting at boot before one does). On a Debian upgrade a running daemon is
# restarted, so the new binary and its built-in catalog take over; a restart
# does not touch the registrations (a restarted daemon writes nothing that
# has not changed). On rpm, %postun of the old package does that restart.
set -e

unit=carbonio-health.service

case "$1" in
configure) if [ -z "$2" ]; then fresh=1; else fresh=; fi ;;
1) fresh=1 ;;
2) fresh= ;;
*) exit 0 ;;
esac

# The user the unit runs as (User=carbonio-health).
if command -v systemd-sysusers >/dev/null 2>&1; then
	systemd-sysusers carbonio-health.conf
elif ! getent passwd carbonio-health >/dev/null; then
	useradd --system --user-group --home-dir /nonexistent --no-create-home \
		--shell /usr/sbin/nologin --comment "carbonio-health daemon" carbonio-health
fi

# Enable: on Debian through deb-systemd-helper, which remembers an admin's
# `systemctl disable` across upgrades; on rpm only at first install.
if [ "$1" = configure ] && command -v deb-systemd-helper >/dev/null 2>&1; then
	deb-systemd-helper unmask "$unit" >/dev/null || true
	if deb-systemd-helper --quiet was-enabled "$unit"; then
		deb-systemd-helper enable "$unit" >/dev/null || true
	else
		deb-systemd-helper update-state "$unit" >/dev/null || true
	fi
elif [ -n "$fresh" ]; then
	systemctl enable "$unit" >/dev/null 2>&1 || true
fi

# Start or restart only where systemd runs (not in a chroot or a container
# build).
if [ -d /run/systemd/system ]; then
	systemctl daemon-reload >/dev/null 2>&1 || true
	if [ -z "$fresh" ]; then
		[ "$1" = configure ] && systemctl try-restart "$unit" || true
	elif ls /etc/carbonio-health/*.hcl >/dev/null 2>&1; then
		systemctl start "$unit" || true
	fi
fi
if [ -n "$fresh" ] && ! ls /etc/carbonio-health/*.hcl >/dev/null 2>&1; then
	echo "carbonio-health: enabled, not started: declare this node's roles in /etc/carbonio-health/node.hcl"
	echo "  (see node.hcl.example; check it with 'carbonio-health validate'), then: systemctl start carbonio-health"
fi
exit 0
