//go:build tools

// Package packaging pins nfpm, the tool `make package` builds the .deb and
// .rpm with (deploy/package/nfpm.yaml).
package packaging

import _ "github.com/goreleaser/nfpm/v2/cmd/nfpm"
