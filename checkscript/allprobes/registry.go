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
	"github.com/zextras/carbonio-health/checkscript/tcptls"
)

// heavy is every probe with dependencies of its own (one line each): a DNS
// library, an HTTP client, ICMP sockets (and the HTTP client), D-Bus, and
// disk with regexps and tcp with crypto/tls in place of Light's without.
var heavy = checkscript.Registry{
	"disk":    checkscript.DiskProbe(diskRegexp),
	"dns":     dnsprobe.Probe,
	"leader":  leaderprobe.Probe,
	"ping":    pingprobe.Probe,
	"systemd": systemdprobe.Probe,
	"tcp":     tcptls.TCP,
}

// Registry is every probe by name.
var Registry = checkscript.Light.With(heavy)

// IsLight reports whether carbonio-health-check runs the probe with these
// arguments: checkscript.Light can build it (constructors do no I/O). The
// others (heavy probes, tcp with TLS) need carbonio-health.
func IsLight(name string, args []string) bool {
	_, err := checkscript.Light.New(name, args)
	return err == nil
}
