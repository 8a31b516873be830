#!/bin/sh
# Builds carbonio-health's .deb and .rpm into bin/pkg/ (make package): the
# binary (static, stamped with the package version) and the Debian
# changelog, which nfpm.yaml takes from there, then nfpm. Runs from the
# repository root; the Makefile passes GO and NFPM.
set -e

out=bin/pkg
: "${GO:=go}" "${NFPM:=bin/nfpm}"
mkdir -p "$out"

PKG_VERSION=$(deploy/package/version.sh)
export PKG_VERSION

for cmd in carbonio-health carbonio-health-check; do
	CGO_ENABLED=0 "$GO" build -trimpath -ldflags "-s -w -X main.version=$PKG_VERSION" \
		-o "$out/$cmd" "./cmd/$cmd"
done

# The manual pages and the bash completion, written by the binary from its
# own flag definitions and language reference, dated like the commit
# (reproducible); Debian keeps manual pages compressed.
rm -rf "$out/man"
SOURCE_DATE_EPOCH=$(git log -1 --format=%ct) "$out/carbonio-health" generate \
	-man-dir "$out/man" -bash-completion "$out/bash-completion" >/dev/null
gzip -n -9 "$out"/man/*

# The changelog: this build, and the commit that first packaged
# carbonio-health (dated like their commits: reproducible).
first=$(git log --diff-filter=A --format=%H -- deploy/package/nfpm.yaml | tail -n 1)
entry() { # version commit
	printf 'carbonio-health (%s-1) unstable; urgency=medium\n\n' "$1"
	if [ "$2" = "$first" ]; then
		printf '  * First package, built from commit %s.\n\n' "$(git rev-parse --short "$2")"
	else
		printf '  * Built from commit %s.\n\n' "$(git rev-parse --short "$2")"
	fi
	printf ' -- Zextras <packages@zextras.com>  %s\n' "$(git log -1 --format=%aD "$2")"
}
{
	entry "$PKG_VERSION" HEAD
	if [ -n "$first" ] && [ "$(git rev-parse "$first")" != "$(git rev-parse HEAD)" ]; then
		echo
		entry "$(COMMITS=$(git rev-list --count "$first") deploy/package/version.sh "$(git describe --tags --long --always --match 'v[0-9]*' "$first")")" "$first"
	fi
} | gzip -n -9 >"$out/changelog.gz"

rm -f "$out"/*.deb "$out"/*.rpm
for p in deb rpm; do
	"$NFPM" package --config deploy/package/nfpm.yaml --packager "$p" --target "$out/"
done
