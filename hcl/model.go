// Package hcl is carbonio-health's declaration language: HCL files that say
// which roles and features a node has, which services each role exposes and
// how each is checked. It embeds the built-in catalog of every endpoint of
// the Carbonio monitoring document, loads the node's own files on top of it,
// and resolves both into a Plan: the services to register and, for every
// conditional endpoint left out, the reason why.
//
// The package is named after its directory; the upstream HCL library is
// imported as hcl2.
package hcl

import (
	"strings"
	"time"

	hcl2 "github.com/hashicorp/hcl/v2"
)

// IDPrefix starts every service and check ID this tool derives, so IDs are
// stable across restarts and recognisable in the agent.
const IDPrefix = "carbonio-health:"

// RoleOf is the role in a service or check ID this tool derived
// (carbonio-health:<role>:<key>[:<check>]; "daemon" for the daemon's own
// heartbeat), "" for any other ID.
func RoleOf(id string) string {
	rest, ok := strings.CutPrefix(id, IDPrefix)
	if !ok {
		return ""
	}
	role, _, _ := strings.Cut(rest, ":")
	return role
}

// Plan is the resolved declaration of one node.
type Plan struct {
	// Node is the node's own settings after defaults.
	Node Node
	// Services are the endpoints to register, sorted by ID.
	Services []Service
	// Skipped lists the declared endpoints left out and why, sorted by ID.
	Skipped []Skipped
	// Targets are the systemd targets of the node's roles, sorted by role.
	Targets []Target
	// ExcludedUnits are the units left out of the targets' checks: those of
	// the features this node does not have.
	ExcludedUnits []ExcludedUnit
}

// Target is a role's systemd target, checked with every unit it wants or
// requires.
type Target struct {
	Role string `json:"role"`
	// Unit is the target's name, e.g. carbonio-mta.target.
	Unit string `json:"unit"`
}

// ExcludedUnit is a unit a target may pull in that is not checked, because
// the feature it belongs to is not enabled on this node.
type ExcludedUnit struct {
	Unit    string `json:"unit"`
	Feature string `json:"feature"`
}

// Node holds what the node file says about this node.
type Node struct {
	// Roles enabled on this node; the "all" role is always included.
	Roles []string
	// Features enabled on this node (antivirus, dkim, active-replica, …).
	Features []string
	// Address is where TCP and HTTP checks connect by default (127.0.0.1).
	Address string
}

// Service is one endpoint, registered as one Consul service.
type Service struct {
	// ID is stable and derived from the declaration: carbonio-health:<role>:<key>.
	ID string
	// Name is the Consul service name, e.g. carbonio-mta-smtp.
	Name string
	// Role and Key are the declaring role and the service's label in it.
	Role, Key string
	// Description is free text from the declaration.
	Description string
	// Address and Port are registered with the service; Port is 0 for
	// endpoints without one (folders, load, users, …).
	Address string
	Port    int
	// Tags and Meta are registered as given; the registrar adds its own
	// ownership meta.
	Tags []string
	Meta map[string]string
	// Condition says why the service is enabled, e.g. `feature "antivirus"`;
	// empty for unconditional services.
	Condition string
	// IfPresent is the path whose presence decides, while the node runs,
	// whether the service is registered (if_present); empty when nothing
	// does, including on a node whose role requires the path (required_by).
	// Plan.Present evaluates it.
	IfPresent string
	// Checks are the service's checks, sorted by ID.
	Checks []Check
	// DeclRange is where the service block starts, for messages.
	DeclRange hcl2.Range
}

// CheckKind says who runs a check.
type CheckKind string

// The check kinds.
const (
	// KindTCP is a Consul TCP check run by the agent against TCP.
	KindTCP CheckKind = "tcp"
	// KindHTTP is a Consul HTTP check run by the agent against HTTP.
	KindHTTP CheckKind = "http"
	// KindScript is a Consul script check: the agent runs Command, or
	// `carbonio-health check <Probe> <Args…>` when Command is empty.
	KindScript CheckKind = "script"
	// KindTTL is a TTL check the daemon feeds by running Probe in-process
	// every Interval; TTL is how long Consul waits before it turns critical.
	KindTTL CheckKind = "ttl"
)

// Check is one check of a service.
type Check struct {
	// ID is stable: <service ID>:<check key>.
	ID string
	// Key is the check's label within its service.
	Key string
	// Name is shown in the Consul UI.
	Name string
	// Kind says who runs the check.
	Kind CheckKind
	// TCP is host:port for KindTCP.
	TCP string
	// HTTP is the URL for KindHTTP; TLSSkipVerify relaxes its TLS.
	HTTP          string
	TLSSkipVerify bool
	// Probe and Args name a checkscript probe and its flags, for KindScript
	// and KindTTL.
	Probe string
	Args  []string
	// Command is an external plugin command line for KindScript, used
	// instead of Probe when set.
	Command []string
	// Interval is how often the check runs (for KindTTL: how often the daemon
	// evaluates and pushes it); Timeout bounds one run. Probe checks carry it
	// in Args as -t (unless the declaration sets -t itself), so the agent's
	// own script timeout should leave the probe a little more.
	Interval, Timeout time.Duration
	// TTL is the Consul TTL for KindTTL (default 3×Interval).
	TTL time.Duration
	// SuccessBeforePassing and FailuresBeforeCritical damp flapping: how
	// many consecutive results, one interval apart, it takes to turn a
	// failing check passing again, and a passing one critical. For
	// KindTTL the daemon honours them (defaults DefaultSuccessBeforePassing
	// and DefaultFailuresBeforeCritical); the agent honours them for the
	// checks it runs (0, Consul's default, when not declared: at once).
	SuccessBeforePassing, FailuresBeforeCritical int
	// Notes is free text shown with the check.
	Notes string
}

// ScriptArgs returns the command line a script check runs, given the path
// of the carbonio-health binary on the node.
func (c Check) ScriptArgs(self string) []string {
	if len(c.Command) > 0 {
		return append([]string(nil), c.Command...)
	}
	return append([]string{self, "check", c.Probe}, c.Args...)
}

// Skipped is a declared endpoint that is not registered on this node.
type Skipped struct {
	ID, Name, Role string
	// Reason says why, e.g. `feature "antivirus" is not enabled on this node`.
	Reason string
}
