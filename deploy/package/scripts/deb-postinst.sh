#!/bin/sh
# carbonio-health: dpkg postinst, as debhelper writes it (dh_installsysusers,
# dh_installtmpfiles-like, dh_installsystemd --restart-after-upgrade), with
# one change of action: an upgrade try-restarts (a daemon the admin stopped
# stays stopped).
#
# configure (no old version): create the user, enable the unit through
# deb-systemd-helper and start it; it starts only once a node file exists
# (the unit's node-file.conf drop-in), so a fresh install enables without
# starting. configure <old version>: restart a running daemon on the new
# binary and its built-in catalog (a restart writes nothing that has not
# changed: registrations and passing checks stay).
set -e

unit=carbonio-health.service

# The user the unit runs as (User=carbonio-health), as dh_installsysusers
# creates it (the package depends on systemd-sysusers' package).
if [ "$1" = configure ]; then
	systemd-sysusers ${DPKG_ROOT:+--root="$DPKG_ROOT"} carbonio-health.conf
fi

if [ "$1" = configure ] || [ "$1" = abort-upgrade ] || [ "$1" = abort-deconfigure ] || [ "$1" = abort-remove ]; then
	# The following line should be removed in trixie or trixie+1
	deb-systemd-helper unmask "$unit" >/dev/null || true

	# was-enabled defaults to true, so new installations run enable.
	if deb-systemd-helper --quiet was-enabled "$unit"; then
		# Enables the unit on first installation, creates new symlinks on
		# upgrades if the unit file has changed.
		deb-systemd-helper enable "$unit" >/dev/null || true
	else
		# Update the statefile to add new symlinks (if any), which need to
		# be cleaned up on purge. Also remove old symlinks.
		deb-systemd-helper update-state "$unit" >/dev/null || true
	fi
fi

if [ "$1" = configure ] || [ "$1" = abort-upgrade ] || [ "$1" = abort-deconfigure ] || [ "$1" = abort-remove ]; then
	if [ -d /run/systemd/system ]; then
		systemctl --system daemon-reload >/dev/null || true
		if [ -n "$2" ]; then
			deb-systemd-invoke try-restart "$unit" >/dev/null || true
		else
			deb-systemd-invoke start "$unit" >/dev/null || true
		fi
	fi
fi

if [ "$1" = configure ] && [ -z "$2" ] && ! ls /etc/carbonio-health/*.hcl >/dev/null 2>&1; then
	echo "carbonio-health: enabled, not started: declare this node's roles in /etc/carbonio-health/node.hcl"
	echo "  (see node.hcl.example; check it with 'carbonio-health validate'), then: systemctl start carbonio-health"
fi
exit 0
