package consultest

import (
	"fmt"
	"strings"
)

// Endpoint is one service of a test declaration with one check, of the
// three kinds the daemon's checks come in: a TCP check the agent runs
// (Port), a TTL check the daemon feeds from its socket probe (Socket), or
// a script check the agent runs (Script).
type Endpoint struct {
	Service string
	// Check is the check's name; "tcp" when empty.
	Check string
	// Port, Socket, Script: the first one set says the kind.
	Port   int
	Socket string
	Script string // run as /bin/sh -c Script
	// Interval is the check's interval ("1s").
	Interval string
}

// Role is the HCL of role name with endpoints, and of a node that has
// that role: a declaration the tests write to a node.hcl.
func Role(name string, endpoints ...Endpoint) string {
	var b strings.Builder
	fmt.Fprintf(&b, "role %q {\n", name)
	for _, e := range endpoints {
		check := e.Check
		if check == "" {
			check = "tcp"
		}
		fmt.Fprintf(&b, "  service %q {\n", e.Service)
		switch {
		case e.Port != 0:
			fmt.Fprintf(&b, "    port = %d\n    check %q { interval = %q }\n", e.Port, check, e.Interval)
		case e.Socket != "":
			fmt.Fprintf(&b, "    check %q {\n      type     = \"ttl\"\n      probe    = \"socket\"\n      args     = { p = %q }\n      interval = %q\n    }\n",
				check, e.Socket, e.Interval)
		default:
			fmt.Fprintf(&b, "    check %q {\n      type     = \"script\"\n      command  = [\"/bin/sh\", \"-c\", %q]\n      interval = %q\n    }\n",
				check, e.Script, e.Interval)
		}
		b.WriteString("  }\n")
	}
	fmt.Fprintf(&b, "}\nnode { roles = [%q] }\n", name)
	return b.String()
}
