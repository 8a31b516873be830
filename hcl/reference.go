package hcl

import "strings"

// Reference documents the declaration language: the language section of
// hcl/README.md and the manual page carbonio-health.hcl(5) are both written
// from it (TestReferenceDoc, `carbonio-health generate`), and
// TestReferenceCoversSchema keeps it equal to the schemas the loader
// decodes with. Texts use the small Markdown subset of the manual pages: paragraphs, "- " items
// ("- `term`: text" for a definition), ``` blocks, `code`.
var Reference = LanguageReference{
	Intro: `A declaration is a set of HCL files: the built-in catalog (one file per role, built into the binary), then
every ` + "`*.hcl`" + ` file of the node's configuration directories, in name order (` + "`/etc/carbonio-health`" + ` by
default, or each ` + "`-config-dir`" + `). Together they declare roles, the services of each role and the checks of
each service; the node's ` + "`node`" + ` block says which roles and features this node has, and ` + "`override`" + `
blocks change what the catalog declares without copying it.`,
	Blocks: []BlockDoc{
		{Header: `node`, Doc: "This node: its roles and features. At most one per declaration.", Attributes: []AttrDoc{
			{"roles", "list of names", `["all"]`, "the roles of this node; `all` (disks, load, users, ping, DNS, the Consul agent's unit) is always there"},
			{"features", "list of names", "[]", "the optional features this node has (the catalog declares `antivirus`, `dkim`, `active-replica`)"},
			{"address", "string", `"127.0.0.1"`, "where tcp and http checks connect, unless a service says otherwise"},
		}},
		{Header: `feature "name"`, Doc: "An optional feature that services can depend on.", Attributes: []AttrDoc{
			{"description", "string", "", "what the feature is"},
			{"units", "list of strings", "[]", "systemd units that run only with the feature: left out of the role targets' checks on a node without it"},
		}},
		{Header: `role "name"`, Doc: "A role and its services. A role is registered on a node that lists it in `node.roles`; every declared role is validated either way.", Attributes: []AttrDoc{
			{"description", "string", "", "what the role is"},
			{"target", "string", "", "the role's systemd target: declares the service `units` with a check `target` of the `systemd` probe, which checks the target and every unit it pulls in"},
		}},
		{Header: `service "key"`, In: "role", Doc: "One Consul service. Its ID is `carbonio-health:<role>:<key>`, stable across restarts.", Attributes: serviceAttributeDocs},
		{Header: `override "role" "key"`, Doc: "Changes the service `key` of role `role` as declared elsewhere (usually the catalog): each attribute set here replaces the declared one, `args` merge flag by flag (`null` drops a flag), a `check` block with a known label merges into that check and one with a new label adds a check, and `enabled = false` removes the service or the check. It takes the attributes of `service`.", Attributes: nil},
		{Header: `check "key"`, In: "service, override", Doc: "One check of the service. Its ID is the service's ID followed by `:<key>`.", Attributes: checkAttributeDocs},
	},
	Sections: []SectionDoc{
		{"Probe arguments", `` + "`args`" + ` is an object of probe flags: a one-letter key ` + "`k`" + ` becomes ` + "`-k`" + `, a longer
one ` + "`--key`" + `; ` + "`true`" + ` gives a bare flag, a list repeats the flag, and ` + "`null`" + ` (in an override) drops a flag.
Every probe and its flags: ` + "`carbonio-health check <probe> -h`" + `, or carbonio-health(1). The check's ` + "`timeout`" + ` is passed
as the probe's ` + "`-t`" + `.

` + "```" + `
check "load" {
  probe = "load"
  args  = { w = "1.5,1.25,1", c = "3,2.5,2", r = true }
}
` + "```"},
		{"Conditions", `A service with ` + "`feature`" + ` is registered only on a node that has the feature. A service with
` + "`if_present`" + ` is registered only while that path exists; the running daemon follows the path and adds or
removes the service within one check interval. On a role listed in ` + "`required_by`" + ` the path is mandatory: the
service is always registered there and its check turns critical while the path is missing. ` + "`carbonio-health plan`" + `
names every service left out and why.`},
		{"Overrides", `A node file changes any value of the catalog without copying it:

` + "```" + `
override "all" "load" {
  check "load" { args = { w = "3,2.5,2" } }    # only the warning thresholds change
}
override "all" "dns" {
  check "dns-partner" {                        # one more name to resolve
    type  = "script"
    probe = "dns"
    args  = { H = "mail.partner.example", a = "192.0.2.10" }
  }
}
override "mta" "units" {
  check "target" { args = { x = "carbonio-saslauthd.service" } }   # a unit not checked
}
override "all" "disk-backup" { enabled = false }
` + "```" + `

New roles are declared like the catalog's (` + "`role \"name\" { service \"key\" { ... } }`" + `) and enabled in
` + "`node.roles`" + `.`},
		{"Errors", `Every declared role is validated, whether or not this node enables it. Each error names the file,
line and column and shows the text at fault; a value set in one file and checked against one set in another (an
interval raised past the catalog's ` + "`ttl`" + `) points at the later one and names where the other was set.
` + "`carbonio-health validate`" + ` exits 1 on any error; a running daemon keeps its last good declaration when a reload
fails.

` + "```" + `
$ carbonio-health validate -config-dir /etc/carbonio-health
/etc/carbonio-health/node.hcl:2:10: error: Port out of range
    2 |   port = 70000
      |          ^^^^^
  Port 70000 is not between 1 and 65535.
` + "```"},
	},
}

// serviceAttributeDocs documents the attributes of service and override
// blocks (serviceAttributes).
var serviceAttributeDocs = []AttrDoc{
	{"name", "string", "`carbonio-<role>-<key>`", "the Consul service name: lower-case letters, digits and dashes"},
	{"description", "string", "", "what the service is; shown in `plan`"},
	{"port", "number", "", "the port tcp checks and http paths connect to, 1 to 65535"},
	{"address", "string", "`node.address`", "where tcp and http checks connect"},
	{"tags", "list of strings", "[]", "Consul tags; the role's name is always one"},
	{"meta", "map of strings", "{}", "Consul service meta; `managed-by` and the definition's hash are added"},
	{"feature", "string", "", "registered only on a node with this feature"},
	{"if_present", "string", "", "an absolute path: registered only while it exists, followed by the running daemon"},
	{"required_by", "list of roles", "[]", "roles on which the `if_present` path is mandatory: always registered there, critical while missing"},
	{"enabled", "bool", "true", "`false` removes the service"},
}

// checkAttributeDocs documents the attributes of check blocks
// (checkAttributes).
var checkAttributeDocs = []AttrDoc{
	{"type", "string", "the label, when it is a type", "`tcp` and `http` (run by the agent), `script` (a probe or command run by the agent), `ttl` (a probe run by the daemon, which pushes its result)"},
	{"name", "string", "`<service name> <key>`", "the check's name in Consul"},
	{"probe", "string", "", "the probe of a `script` or `ttl` check"},
	{"args", "object", "{}", "the probe's flags (see Probe arguments)"},
	{"command", "list of strings", "", "an external plugin's command line, for a `script` check without a probe"},
	{"interval", "duration", "30s", "how often the check runs; at least 1s, Consul's minimum"},
	{"timeout", "duration", "10s", "how long one run may take"},
	{"ttl", "duration", "3 × interval", "a `ttl` check's TTL, longer than its interval: when the daemon stops pushing, the check turns critical"},
	{"http", "string", `"/"`, "an `http` check's path on the service's port, or a full URL"},
	{"protocol", "string", `"http"`, "`http` or `https`, for a path on the service's port"},
	{"tls_skip_verify", "bool", "false", "an `https` check accepts any certificate"},
	{"notes", "string", "", "what the check watches and what a failure means, shown in the Consul UI"},
	{"enabled", "bool", "true", "`false` removes the check"},
	{"failures_before_critical", "number, 1–100", "1 for `ttl`; unset (Consul's: at once) otherwise", "consecutive failing results, one interval apart, before a passing check turns critical: the agent applies it to `tcp`, `http` and `script` checks, the daemon to `ttl` checks ([flap damping](../registrar/RELIABILITY.md#flap-damping))"},
	{"success_before_passing", "number, 1–100", "2 for `ttl`; unset otherwise", "consecutive passing results, one interval apart, before a failing check passes again: quick to raise, slow to clear"},
}

// LanguageReference is the reference of the declaration language.
type LanguageReference struct {
	Intro    string
	Blocks   []BlockDoc
	Sections []SectionDoc
}

// BlockDoc documents one block type.
type BlockDoc struct {
	Header     string    // the block as written, labels included: `service "key"`
	In         string    // the blocks it appears in ("" for the top level)
	Doc        string    // what it declares
	Attributes []AttrDoc // its attributes (nil: override, which takes service's)
}

// AttrDoc documents one attribute.
type AttrDoc struct {
	Name, Type, Default, Doc string
}

// SectionDoc is a section of prose after the blocks.
type SectionDoc struct {
	Title, Text string
}

// DefaultMarkup is the attribute's default in the reference's markup: a
// value (no spaces) as `code`, a description as it is.
func (a AttrDoc) DefaultMarkup() string {
	if a.Default == "" || strings.ContainsAny(a.Default, " `") {
		return a.Default
	}
	return "`" + a.Default + "`"
}
