//go:build tools

// Package consuldev pins the Consul agent built by `make consul`.
package consuldev

import _ "github.com/hashicorp/consul"
