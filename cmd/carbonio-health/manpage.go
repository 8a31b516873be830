package main

import (
	"flag"
	"fmt"
	"strings"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/allprobes"
)

// The manual pages, written by `carbonio-health generate` from the
// command table, each command's flag set, commandDocs, the probe
// registries and hcl.Reference: the sources -h and the loader use, so the
// pages cannot say otherwise.

// manHeader is the .TH line of a page.
func manHeader(b *strings.Builder, name, section, date string) {
	fmt.Fprintf(b, ".TH %s %s %q %q %q\n", strings.ToUpper(roffEscape(name)), section, date, "carbonio-health "+version, "carbonio-health manual")
}

// carbonioHealthPage is carbonio-health(1).
func carbonioHealthPage(date string) string {
	var b strings.Builder
	manHeader(&b, "carbonio-health", "1", date)
	b.WriteString(".SH NAME\ncarbonio-health \\- Carbonio node endpoints as Consul services and checks\n")
	b.WriteString(".SH SYNOPSIS\n")
	for _, name := range commandOrder {
		fmt.Fprintf(&b, ".B carbonio-health %s\n", name)
		if args := commandDocs[name].args; args != "" {
			b.WriteString(roffLine(roffEscape(args)) + "\n")
		}
		b.WriteString(".br\n")
	}
	b.WriteString(".SH DESCRIPTION\n")
	writeRoffDoc(&b, pageDescription)
	b.WriteString(".SH COMMANDS\n")
	for _, name := range commandOrder {
		fmt.Fprintf(&b, ".SS %s\n", name)
		summary := "print the version"
		if c, ok := commands[name]; ok {
			summary = c.summary
		}
		b.WriteString(".PP\n" + roffInline(upperFirst(summary)+".") + "\n")
		writeRoffDoc(&b, commandDocs[name].doc)
		if name == "version" || name == "check" {
			continue
		}
		if fs := commandFlags(name); fs != nil {
			shared := writeRoffFlags(&b, fs, commandSpelling, consulFlagNames())
			if shared {
				b.WriteString(".PP\nAnd the Consul connection flags (see CONSUL CONNECTION).\n")
			}
		}
	}
	b.WriteString(".SH CONSUL CONNECTION\n")
	writeRoffDoc(&b, "The commands that talk to Consul take these flags; each defaults to the consul CLI's environment variable (see ENVIRONMENT).")
	cf := flag.NewFlagSet("consul", flag.ContinueOnError)
	addConsulFlags(cf)
	writeRoffFlags(&b, cf, commandSpelling, nil)
	b.WriteString(".SH PROBES\n")
	writeRoffDoc(&b, "The probes of `carbonio-health check`, and of script and ttl checks (`probe` in carbonio-health.hcl(5)). "+
		"Thresholds take Nagios ranges (`10`, `10:`, `~:10`, `10:20`, `@10:20`). Every probe takes `-t` (`--timeout`).")
	writeRoffProbes(&b, allprobes.Registry, "carbonio-health check")
	b.WriteString(".SH ENVIRONMENT\n")
	writeRoffDoc(&b, pageEnvironment)
	b.WriteString(".SH FILES\n")
	writeRoffDoc(&b, pageFiles)
	b.WriteString(".SH EXIT STATUS\n")
	writeRoffDoc(&b, pageExitStatus)
	b.WriteString(".SH EXAMPLES\n")
	writeRoffDoc(&b, pageExamples)
	b.WriteString(".SH SEE ALSO\n")
	b.WriteString(".BR carbonio-health-check (1),\n.BR carbonio-health.hcl (5),\n.BR consul (1)\n")
	return b.String()
}

// checkPage is carbonio-health-check(1).
func checkPage(date string) string {
	var b strings.Builder
	manHeader(&b, "carbonio-health-check", "1", date)
	b.WriteString(".SH NAME\ncarbonio-health-check \\- run a light carbonio-health probe as a Nagios plugin\n")
	b.WriteString(".SH SYNOPSIS\n.B carbonio-health-check\n[\\fBcheck\\fR] [\\fB\\-steady\\fR] \\fIprobe\\fR [\\fIflags\\fR]\n")
	b.WriteString(".SH DESCRIPTION\n")
	writeRoffDoc(&b, checkPageDescription)
	b.WriteString(".SH PROBES\n")
	writeRoffProbes(&b, checkscript.Light, "carbonio-health-check")
	b.WriteString(".SH EXIT STATUS\n")
	writeRoffDoc(&b, pluginExitStatus)
	b.WriteString(".SH EXAMPLES\n")
	writeRoffDoc(&b, "```\n$ carbonio-health-check disk -p /opt -w 20% -c 10%\n$ carbonio-health-check tcp -H 127.0.0.1 -p 25 -e 220\n```")
	b.WriteString(".SH SEE ALSO\n.BR carbonio-health (1),\n.BR carbonio-health.hcl (5)\n")
	return b.String()
}

// writeRoffProbes lists the probes of r with their flags.
func writeRoffProbes(b *strings.Builder, r checkscript.Registry, prog string) {
	for _, p := range r.Probes() {
		fmt.Fprintf(b, ".SS %s\n", p.Name)
		b.WriteString(".PP\n" + roffInline(p.Summary) + "\n")
		fs := p.FlagSet()
		fmt.Fprintf(b, ".PP\n.B %s %s\n[\\fIflags\\fR]\n", prog, p.Name)
		if ops := probeOperands(fs); ops != "" {
			b.WriteString(roffInline(ops) + "\n")
		}
		writeRoffFlags(b, fs, checkscript.Spelling, nil)
	}
}

// probeOperands is what a probe takes besides its flags ("[W C] [PATH]"),
// as checkscript.Operands declares it: the usage of its one flag whose
// name no command line can give.
func probeOperands(fs *flag.FlagSet) string {
	var ops string
	fs.VisitAll(func(f *flag.Flag) {
		if !isFlagName(f.Name) {
			ops = f.Usage
		}
	})
	return ops
}

// consulFlagNames are the Consul connection flags (addConsulFlags), which
// the page lists once.
func consulFlagNames() map[string]bool {
	fs := flag.NewFlagSet("consul", flag.ContinueOnError)
	addConsulFlags(fs)
	names := map[string]bool{}
	fs.VisitAll(func(f *flag.Flag) { names[f.Name] = true })
	return names
}

// writeRoffFlags lists a flag set, each flag with its aliases (a flag whose
// usage is "same as -x" is listed with -x), each name as spell writes it
// (a probe's as checkscript.Spelling, a command's as commandSpelling).
// Flags in skip are left out; it reports whether there were any.
func writeRoffFlags(b *strings.Builder, fs *flag.FlagSet, spell func(*flag.Flag) string, skip map[string]bool) (skipped bool) {
	aliases := map[string][]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if of, ok := strings.CutPrefix(f.Usage, "same as -"); ok && fs.Lookup(of) != nil {
			aliases[of] = append(aliases[of], f.Name)
		}
	})
	fs.VisitAll(func(f *flag.Flag) {
		if of, ok := strings.CutPrefix(f.Usage, "same as -"); ok && fs.Lookup(of) != nil {
			return
		}
		if skip[f.Name] {
			skipped = true
			return
		}
		if !isFlagName(f.Name) {
			return // a pseudo-flag, such as the operands a probe reads
		}
		var names []string
		for _, n := range append([]string{f.Name}, aliases[f.Name]...) {
			names = append(names, `\fB`+roffEscape(spell(fs.Lookup(n)))+`\fR`)
		}
		typ, usage := flag.UnquoteUsage(f)
		b.WriteString(".TP\n" + strings.Join(names, ", "))
		if typ != "" {
			b.WriteString(` \fI` + roffEscape(typ) + `\fR`)
		}
		b.WriteString("\n" + roffInline(usage))
		if shownDefault(f) {
			b.WriteString(" (default: " + roffEscape(f.DefValue) + ")")
		}
		b.WriteString("\n")
	})
	return skipped
}

// commandSpelling is how a command's flag is written: one dash, as Go's
// flag package reads it (-http-addr).
func commandSpelling(f *flag.Flag) string { return "-" + f.Name }

// isFlagName says whether a flag set's entry is a flag a user types (not
// a pseudo-flag holding a probe's operands, such as "(operands)").
func isFlagName(name string) bool {
	return name != "" && !strings.ContainsAny(name, "() ")
}

// shownDefault says whether a flag's default is worth printing.
func shownDefault(f *flag.Flag) bool {
	switch f.DefValue {
	case "", "false", "0", "[]", "0s":
		return false
	}
	return !strings.Contains(f.Usage, "(default")
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return strings.ToUpper(s[:1]) + s[1:]
}

const pageDescription = `carbonio-health reads HCL role declarations, the built-in catalog of a Carbonio node's endpoints and the
node's own files in ` + "`/etc/carbonio-health`" + ` (carbonio-health.hcl(5)), and registers every endpoint (ports, unix
sockets, disk folders, load, users, ping, DNS, systemd units) as a Consul service with checks in the local Consul
agent. The agent runs the tcp, http and script checks; the daemon, ` + "`carbonio-health run`" + `, feeds the ttl checks.
External monitoring (Nagios, Icinga, Zabbix, the Consul UI, ` + "`consul watch`" + `, Prometheus) then reads the node's
health from Consul, with ` + "`carbonio-health status`" + ` as a plugin.

Every command that talks to Consul reaches it as the consul CLI does (see ENVIRONMENT), with the flags
` + "`-http-addr`" + `, ` + "`-token-file`" + `, ` + "`-ca-file`" + `, ` + "`-client-cert`" + `, ` + "`-client-key`" + ` and ` + "`-datacenter`" + ` on top.
Flags take one dash or two (` + "`-config-dir`" + ` or ` + "`--config-dir`" + `). Tokens are never printed or logged.`

const pageEnvironment = `- ` + "`CONSUL_HTTP_ADDR`" + `: the agent's HTTP API (default ` + "`127.0.0.1:8500`" + `); ` + "`https://`" + ` or ` + "`unix://`" + ` URLs too.
- ` + "`CONSUL_HTTP_TOKEN`" + `, ` + "`CONSUL_HTTP_TOKEN_FILE`" + `: the ACL token, or the file holding it (` + "`-token-file`" + ` wins).
- ` + "`CONSUL_CACERT`" + `, ` + "`CONSUL_CLIENT_CERT`" + `, ` + "`CONSUL_CLIENT_KEY`" + `, ` + "`CONSUL_HTTP_SSL`" + `: TLS to the agent.
- ` + "`DBUS_SYSTEM_BUS_ADDRESS`" + `: the system bus the systemd probe asks (default the system's).`

const pageFiles = `- ` + "`/etc/carbonio-health/*.hcl`" + `: the node's declarations, read in name order after the built-in catalog.
- ` + "`/etc/carbonio/health/service-discover/token`" + `: the daemon's ACL token (mode 0600), written by ` + "`setup`" + ` and read by ` + "`run`" + ` and ` + "`deregister`" + `.
- ` + "`/etc/carbonio/health/service-discover/status-token`" + `: the read-only token ` + "`setup -read-only`" + ` writes.
- ` + "`/etc/zextras/service-discover/carbonio-health.json`" + `: the services with script checks, written for the agent (its config dir).
- ` + "`/etc/carbonio-health/consul.env`" + `: environment of the systemd unit (` + "`CONSUL_HTTP_ADDR`" + `, ` + "`METRICS_ADDR`" + `, ...).
- ` + "`/usr/share/carbonio-health/`" + `: the ACL policies and agent fragment, and the Nagios, Icinga 2 and Zabbix files.`

const pluginExitStatus = `- ` + "`0`" + `: OK.
- ` + "`1`" + `: WARNING.
- ` + "`2`" + `: CRITICAL.
- ` + "`3`" + `: UNKNOWN: the probe could not tell, or its flags are wrong (the usage follows the line).`

const pageExitStatus = `` + "`check`" + ` and ` + "`status`" + ` answer as Nagios plugins:

` + pluginExitStatus + `

The other commands exit 0 on success, 1 on failure (an invalid declaration, Consul refusing a write) and 2 on
a wrong command or flag; ` + "`plan -diff`" + ` also exits 2 when ` + "`run`" + ` would change something.`

const pageExamples = "```\n" + `# declare this node, check it, start the daemon
cp /etc/carbonio-health/node.hcl.example /etc/carbonio-health/node.hcl
carbonio-health validate && carbonio-health plan
service-discover bootstrap-token | carbonio-health setup -owner carbonio-health
systemctl start carbonio-health

# what run would change in the agent
carbonio-health plan -diff

# one probe, as Nagios runs it
carbonio-health check disk -p /opt -w 20% -c 10%

# the cluster's health, as a Nagios plugin and as JSON
carbonio-health status -node '*'
carbonio-health status -role mta -format json
` + "```"

const checkPageDescription = `carbonio-health-check runs the light probes of carbonio-health (those whose code needs nothing beyond the
standard library: disk, dirsize, load, socket, tcp without TLS, users) exactly as ` + "`carbonio-health check`" + ` runs
them, in a binary that links nothing else, so that each exec costs little more than a minimal Go program. It is
what the Consul agent execs for their script checks; the other probes, and tcp with TLS (` + "`-S`" + `, ` + "`--sni`" + `,
` + "`-D`" + `), run in ` + "`carbonio-health check`" + `.

It prints one line, ` + "`LABEL STATE - summary|perfdata`" + `, and exits with the plugin's status. The leading word
` + "`check`" + ` is optional. ` + "`-steady`" + `, before the probe's name, prints the steady form Consul stores (no perfdata,
no moving measurements).`
