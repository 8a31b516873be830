package main

// The documentation of the commands beyond their one-line summaries (the
// command table) and their flags (each command's flag set): what `-h`
// prints and what `carbonio-health generate` writes into the manual page
// carbonio-health(1). The text is in the small markup of docmarkup.go.

// commandDoc documents one command.
type commandDoc struct {
	// args is the synopsis after the command's name.
	args string
	// usage is a note -h prints after the summary (optional).
	usage string
	// doc is the manual page's description of the command.
	doc string
}

// commandOrder is the order of the commands in the manual page: the
// daemon, what an operator runs while declaring, what readers run, setup.
var commandOrder = []string{"run", "validate", "plan", "check", "status", "setup", "deregister", "install-fragment", "generate", "version"}

// commandDocs documents every command of the command table, and version.
var commandDocs = map[string]commandDoc{
	"run": {
		args: "[flags]",
		doc: `It loads the built-in catalog and the node's declarations, registers every declared service
with its checks in the local Consul agent, and keeps them true: it compares the agent with the declaration at start,
on SIGHUP, whenever its blocking watch of its own node returns (a service deregistered by hand, an agent restarted
with a wiped data dir) and every ` + "`-resync`" + `. It writes only what differs, and touches only the services whose
Meta says ` + "`managed-by = carbonio-health`" + `. It feeds the TTL checks (sockets, disks, folder sizes) by running
their probes in-process, and keeps a heartbeat check of its own, ` + "`carbonio-health:daemon:alive`" + `, that expires
when it stops.

Script checks reach the agent the way the agent allows: with ` + "`enable_local_script_checks`" + ` (Carbonio's agent) the
daemon writes the services that carry them into ` + "`carbonio-health.json`" + ` in the agent's config dir and reloads
the agent; with ` + "`enable_script_checks`" + ` it registers them over the API. It refuses to start when neither is
possible, naming the setting to change. With ` + "`-fragment-stage`" + ` (the package's unit) it writes that file into a
folder of its own instead, and ` + "`install-fragment`" + `, run as root, checks it and installs it; the daemon then needs no
write access to the agent's config dir. A declaration that does not load stops it at start with exit status 78.

SIGHUP reloads the declarations: a valid change is applied as a diff, an invalid one is logged with its diagnostics
and the last good state stays registered. SIGTERM and SIGINT stop the daemon and leave its registrations in place
(its TTL checks then expire to critical, which is the alarm), unless ` + "`-deregister-on-exit`" + `.`,
	},
	"validate": {
		args: "[-config-dir DIR]...",
		doc: `Loads the built-in catalog and the node's declarations and validates every declared role, whether or not this
node enables it. Each error names the file, line and column and shows the text at fault. Exit status 0 when the
declaration is valid, 1 when it is not.`,
	},
	"plan": {
		args: "[-config-dir DIR]... [-json | -markdown] [-diff]",
		doc: `Prints every service and check that ` + "`run`" + ` would register on this node, and every declared one that
it would leave out, with the reason (a role or feature this node lacks, a path that does not exist). With ` + "`-diff`" + `
it also asks the local agent what ` + "`run`" + ` would add (+), change (~) and remove (-), and exits 2 when something
would change.`,
	},
	"check": {
		args: "[-steady] <probe> [probe flags]",
		doc: `Runs one probe once and answers as a Nagios plugin: one line ` + "`LABEL STATE - summary|perfdata`" + ` on
standard output, and the exit status 0 (OK), 1 (WARNING), 2 (CRITICAL) or 3 (UNKNOWN). It is what the Consul agent
runs for a script check, and what Nagios, Icinga or a Zabbix agent can run themselves. Bad flags answer UNKNOWN
(exit 3) with the probe's usage. ` + "`-steady`" + `, before the probe's name, prints the steady form of the result, what
the daemon stores in Consul: the state and what explains it, without perfdata or moving measurements. The probes and
their flags are listed under PROBES; ` + "`carbonio-health-check`" + ` runs the light ones in a smaller binary.`,
	},
	"status": {
		args: "[-node NODE | -node '*'] [-role ROLE] [-service NAME] [-check ID] [-format nagios|json|zabbix-discovery] [-timeout D]",
		doc: `Reads Consul's health of this node (or another node, or every node), optionally narrowed to a role, a
service or one check, and answers as a Nagios plugin: one line, the worst state wins, the failing checks' outputs
named, perfdata counting ` + "`passing`" + `, ` + "`warning`" + ` and ` + "`critical`" + `. It never answers OK when it could
not read: Consul unreachable, an ACL refusal, no check in scope or a bad flag are UNKNOWN (exit 3).

Freshness is decided per check, and the worst wins. A node whose agent the cluster cannot reach
(` + "`serfHealth`" + ` critical) counts as one CRITICAL entry instead of its stale checks. On a node whose agent is alive but
whose daemon heartbeat is critical (the daemon down, or its token refused), the TTL checks the daemon feeds are
stale and count as one UNKNOWN entry, while the checks the agent runs itself (tcp, http, script) count as they are:
daemon down and SMTP down is CRITICAL, naming SMTP. The failing checks are named newest first (by the catalog's
` + "`ModifyIndex`" + `, which moves when a check's status changes), five at most, the rest counted. ` + "`-timeout`" + ` (10 s)
bounds the query: an agent that does not answer gives UNKNOWN, not a hang. For the agent's own node the agent's
view is read (it holds output changes at once); any other node from the catalog. ` + "`-format json`" + ` prints every
check with its source; ` + "`-format zabbix-discovery`" + ` the low-level discovery of Zabbix. The token needs only read
access (` + "`carbonio-health setup -read-only`" + ` creates one).`,
	},
	"setup": {
		args:  "[-read-only] [-out FILE] [-owner USER] [-allow-widen] [-dry-run] [-config-dir DIR]...",
		usage: "The management token comes from -token-file, $CONSUL_HTTP_TOKEN(_FILE), or stdin\n(e.g. `service-discover bootstrap-token | carbonio-health setup -owner carbonio-health`).",
		doc: `From a management token, creates or updates the daemon's least-privilege ACL policy,
` + "`carbonio-health-<node>-policy`" + `, and a token of it, written to ` + "`/etc/carbonio/health/service-discover/token`" + `
(mode 0600) where ` + "`run`" + ` reads it. The policy grants ` + "`service:write`" + ` on each service the node's roles declare,
by exact name, and on the daemon's own two services, ` + "`node:read`" + ` on the node (the watch) and ` + "`agent:write`" + ` (the
agent's reload). Run it again after changing the declaration: nothing changes when nothing has to; rules that would
grant more than before are refused, with the difference printed, until ` + "`-allow-widen`" + `. With ` + "`-read-only`" + ` it
creates the read-only token of ` + "`status`" + ` instead. The management token comes from ` + "`-token-file`" + `,
` + "`CONSUL_HTTP_TOKEN`" + ` or ` + "`CONSUL_HTTP_TOKEN_FILE`" + `, or standard input; on a Carbonio node:
` + "`service-discover bootstrap-token | carbonio-health setup -owner carbonio-health`" + `.`,
	},
	"deregister": {
		args: "[flags]",
		doc: `Removes every service carbonio-health registered in the local agent (those whose Meta says
` + "`managed-by = carbonio-health`" + `) and its config fragment from the agent's config dir, and nothing else. The
package's purge runs it.`,
	},
	"install-fragment": {
		args: "[-stage DIR] [-agent-config-dir DIR] [-config-dir DIR]...",
		doc: `Installs the agent config fragment that ` + "`run -fragment-stage`" + ` staged, as root (the package's
` + "`carbonio-health-fragment.service`" + ` runs it whenever the staged file changes). A file in the agent's config
dir is agent configuration, which can make the agent run any command as its own user; so it lets through only what
the daemon writes: the ` + "`services`" + ` it owns (ID ` + "`carbonio-health`" + ` or ` + "`carbonio-health:…`" + `, Meta
` + "`managed-by = carbonio-health`" + `), no other setting, and script checks that run this binary's ` + "`check`" + `,
` + "`carbonio-health-check`" + ` beside it, or exactly a command declared in the node's files (read from
` + "`-config-dir`" + `, root's). It installs what it decoded, re-encoded, never the staged bytes; it reads the staged file
without following links. With nothing staged it removes the installed file. A refused file is an error (exit 1)
naming what was refused; the installed file stays as it was.`,
	},
	"generate": {
		args: "[-man-dir DIR] [-bash-completion FILE]",
		doc: `Writes the manual pages carbonio-health(1), carbonio-health-check(1) and carbonio-health.hcl(5) into
` + "`-man-dir`" + `, and the bash completion of both commands into ` + "`-bash-completion`" + `, from the same command table,
flags, probes and language reference that ` + "`-h`" + ` and the loader use. The package is built with them.`,
	},
	"version": {
		args: "",
		doc:  `Prints the version.`,
	},
}
