#!/bin/sh
# Builds the real node's root filesystem under $1 (make node: bin/node), in
# two cached layers that the tests stack with overlayfs:
#
#   base/   Debian 12 from mmdebstrap (minbase + systemd and Debian's mail
#           daemons), rebuilt only when the package list below changes;
#   shape/  what makes it a Carbonio-shaped node (shape.sh and files/ here):
#           daemons on Carbonio's ports, Carbonio's units and targets, the
#           service-discover agent's unit and user. Rebuilt when any file of
#           this folder changes (a few seconds).
#
# Each layer is built into a temporary folder and renamed when complete, so
# an interrupted build leaves nothing that looks finished. Apt reads the
# Debian sources this machine's apt uses. Run as root (mmdebstrap, chroot,
# mount). Nothing happens when both layers are up to date.
set -eu

out=${1:?usage: build.sh OUTDIR}
here=$(cd "$(dirname "$0")" && pwd)
suite=bookworm
packages="systemd systemd-sysv dbus iproute2 procps ca-certificates netbase
postfix dovecot-imapd dovecot-pop3d dovecot-lmtpd nginx-light slapd ldap-utils
postgresql mariadb-server clamav-daemon patroni python3-consul ssl-cert"

if [ "$(id -u)" != 0 ]; then
	echo "make node: run as root (mmdebstrap, chroot and overlay mounts)" >&2
	exit 1
fi
for t in mmdebstrap systemd-nspawn; do
	command -v "$t" >/dev/null || missing=1
done
if [ -n "${missing-}" ]; then
	apt-get -o DPkg::Lock::Timeout=600 update -qq
	DEBIAN_FRONTEND=noninteractive apt-get -o DPkg::Lock::Timeout=600 install -y -qq \
		--no-install-recommends mmdebstrap systemd-container
fi
mkdir -p "$out"
# A go.mod makes this folder a module of its own, which keeps the Go tool's
# ./... patterns (go vet, go test) out of the root filesystems.
printf 'module node\n' >"$out/go.mod"

# The Debian sources apt uses here (deb822 or one-line files).
sources=
for f in /etc/apt/sources.list /etc/apt/sources.list.d/*.list /etc/apt/sources.list.d/*.sources; do
	if [ -f "$f" ] && grep -qE '^[^#]*debian\.org/debian' "$f"; then
		sources="$sources $f"
	fi
done
[ -n "$sources" ] || sources=http://deb.debian.org/debian

basekey=$(printf '%s\n%s\n' "$suite" "$packages" | sha256sum | cut -c1-16)
if [ "$(cat "$out/base.key" 2>/dev/null)" != "$basekey" ]; then
	echo "make node: building the Debian $suite base with mmdebstrap (a few minutes, once)"
	start=$(date +%s)
	rm -rf "$out/base" "$out/base.tmp" "$out/shape" "$out/shape.key"
	# shellcheck disable=SC2086 # the list of sources files is meant to split
	mmdebstrap --mode=root --variant=minbase \
		--include="$(echo $packages | tr ' ' ,)" \
		--dpkgopt='path-exclude=/usr/share/man/*' \
		--dpkgopt='path-exclude=/usr/share/locale/*' \
		--dpkgopt='path-include=/usr/share/locale/locale.alias' \
		--dpkgopt='path-exclude=/usr/share/doc/*' \
		--dpkgopt='path-include=/usr/share/doc/*/copyright' \
		--customize-hook='chroot "$1" apt-get clean' \
		"$suite" "$out/base.tmp" $sources
	mv "$out/base.tmp" "$out/base"
	echo "$basekey" >"$out/base.key"
	echo "make node: base built in $(($(date +%s) - start)) s ($(du -sh "$out/base" | cut -f1))"
fi

shapekey=$(cd "$here" && {
	find . -type f -print0 | LC_ALL=C sort -z | xargs -0 sha256sum
	find . -type l -printf '%p -> %l\n' | LC_ALL=C sort
} | sha256sum | cut -c1-16)
shapekey="$basekey-$shapekey"
if [ "$(cat "$out/shape.key" 2>/dev/null)" != "$shapekey" ]; then
	start=$(date +%s)
	rm -rf "$out/shape" "$out/shape.tmp" "$out/shape.work" "$out/shape.mnt"
	mkdir -p "$out/shape.tmp" "$out/shape.work" "$out/shape.mnt"
	mount -t overlay overlay -o "lowerdir=$out/base,upperdir=$out/shape.tmp,workdir=$out/shape.work" "$out/shape.mnt"
	trap 'umount "$out/shape.mnt" 2>/dev/null || true' EXIT
	"$here/shape.sh" "$out/shape.mnt" "$here/files"
	umount "$out/shape.mnt"
	trap - EXIT
	rm -rf "$out/shape.work" "$out/shape.mnt"
	mv "$out/shape.tmp" "$out/shape"
	echo "$shapekey" >"$out/shape.key"
	echo "make node: Carbonio shape applied in $(($(date +%s) - start)) s"
fi
