#!/bin/sh
# Gives the Debian base of the real test node Carbonio's shape: run by
# build.sh on an overlay of the base (its changes become the shape layer).
# $1 is the root to change, $2 the files/ tree copied over it first.
#
# Daemons on Carbonio's ports (see files/ for each daemon's configuration):
#   postfix 25, 465 (implicit TLS), 587 (STARTTLS); dovecot IMAP/POP3 143/993,
#   110/995 and the mailbox's 7143/7993, 7110/7995, LMTP 7025; nginx 80/443;
#   slapd 389; postgresql 5432; mariadb /run/carbonio/mysql.sock; clamd
#   /run/carbonio/clamd.socket and 3310; patroni REST 8008 (its PostgreSQL on
#   5433, Consul as its store).
# Carbonio's units and targets (files/etc/systemd/system): carbonio.target
#   wants the role targets and service-discover.target; the Carbonio unit
#   names are aliases of Debian's units or, for slapd, a unit of their own.
# The mesh: user service-discover, /etc/zextras/service-discover and
#   /var/lib/service-discover as Carbonio's tmpfiles create them; the agent's
#   configuration and tokens are written per test run.
set -eu

root=${1:?usage: shape.sh ROOT FILES}
files=${2:?usage: shape.sh ROOT FILES}
inroot() { chroot "$root" "$@"; }

cp -a "$files/." "$root/"

# Carbonio's mesh user and folders (service-discover-daemon's tmpfiles).
inroot useradd --system --user-group --home-dir /var/lib/service-discover \
	--no-create-home --shell /usr/sbin/nologin service-discover
inroot install -d -m 0755 -o service-discover -g service-discover /etc/zextras/service-discover
inroot install -d -m 0750 -o service-discover -g service-discover /var/lib/service-discover /var/lib/service-discover/data
inroot install -d -m 0755 /etc/carbonio /opt/zextras /opt/zextras/store

printf '127.0.0.1\tlocalhost\n127.0.1.1\tmail-1.example.com mail-1\n' >"$root/etc/hosts"
# No network beyond the link to the mesh server: no name server either
# (mmdebstrap copied this machine's, unreachable from the node, where every
# lookup would wait for its timeouts; without one, lookups fail at once).
rm -f "$root/etc/resolv.conf"
echo mail-1.example.com >"$root/etc/mailname"

# postfix: 25 as installed, submission (587, STARTTLS required) and smtps
# (465, implicit TLS) with ssl-cert's snakeoil certificate.
inroot postconf -e myhostname=mail-1.example.com mydestination='$myhostname, localhost' \
	inet_interfaces=all inet_protocols=ipv4 \
	smtpd_tls_cert_file=/etc/ssl/certs/ssl-cert-snakeoil.pem \
	smtpd_tls_key_file=/etc/ssl/private/ssl-cert-snakeoil.key smtpd_tls_security_level=may
inroot postconf -M submission/inet='submission inet n - y - - smtpd' smtps/inet='smtps inet n - y - - smtpd'
inroot postconf -P submission/inet/syslog_name=postfix/submission \
	submission/inet/smtpd_tls_security_level=encrypt \
	smtps/inet/syslog_name=postfix/smtps smtps/inet/smtpd_tls_wrappermode=yes

# clamd on Carbonio's socket and port, its one-signature database; no
# signature downloads.
sed -i -e 's|^LocalSocket .*|LocalSocket /run/carbonio/clamd.socket|' "$root/etc/clamav/clamd.conf"
printf 'TCPSocket 3310\nTCPAddr 127.0.0.1\n' >>"$root/etc/clamav/clamd.conf"
inroot chown clamav:clamav /var/lib/clamav/carbonio.hdb
inroot systemctl -q mask clamav-freshclam.service

# Patroni's PostgreSQL data folder (bootstrapped by Patroni at first boot).
inroot install -d -m 0700 -o postgres -g postgres /var/lib/postgresql/patroni
inroot install -m 0600 -o postgres -g postgres /dev/null /etc/patroni/consul.env

# slapd runs under carbonio-openldap.service, not Debian's init script.
inroot systemctl -q mask slapd.service

# Nothing on a schedule in a test node.
for t in apt-daily.timer apt-daily-upgrade.timer dpkg-db-backup.timer e2scrub_all.timer fstrim.timer; do
	inroot systemctl -q mask "$t"
done

inroot systemctl -q enable carbonio.target node-net.service
