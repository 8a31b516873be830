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

# One entry for this build, dated like its commit (reproducible).
{
	printf 'carbonio-health (%s-1) unstable; urgency=medium\n\n' "$PKG_VERSION"
	printf '  * Built from commit %s.\n\n' "$(git rev-parse --short HEAD)"
	printf ' -- Zextras <packages@zextras.com>  %s\n' "$(git log -1 --format=%aD)"
} | gzip -n -9 >"$out/changelog.gz"

rm -f "$out"/*.deb "$out"/*.rpm
for p in deb rpm; do
	"$NFPM" package --config deploy/package/nfpm.yaml --packager "$p" --target "$out/"
done
