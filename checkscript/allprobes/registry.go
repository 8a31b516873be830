// Package allprobes is the registry of every probe: checkscript.Light and
// the probes with heavy dependencies, each in a package of its own under
// checkscript/. carbonio-health (the daemon's TTL checks, `check`,
// `validate`) uses it; carbonio-health-check, which the Consul agent execs
// for the light probes' script checks, links checkscript.Light only.
package allprobes

import (
	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/dnsprobe"
	"github.com/zextras/carbonio-health/checkscript/leaderprobe"
	"github.com/zextras/carbonio-health/checkscript/pingprobe"
	"github.com/zextras/carbonio-health/checkscript/systemdprobe"
)

// heavy is every probe with dependencies of its own (one line each): a DNS
// library, ICMP sockets and an HTTP client, D-Bus, the HTTP client.
var heavy = checkscript.Registry{
	"dns":     dnsprobe.Probe,
	"leader":  leaderprobe.Probe,
	"ping":    pingprobe.Probe,
	"systemd": systemdprobe.Probe,
}

// Registry is every probe by name.
var Registry = checkscript.Light.With(heavy)

// IsLight reports whether carbonio-health-check runs the named probe (it is
// in checkscript.Light); the others need carbonio-health.
func IsLight(name string) bool {
	_, ok := checkscript.Light[name]
	return ok
}
