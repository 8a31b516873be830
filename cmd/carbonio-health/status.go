package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net/http"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript"
)

func init() {
	commands["status"] = command{
		summary: "read Consul's health for a node, role, service or check; answer as a Nagios plugin, JSON or Zabbix discovery",
		run:     runStatus,
	}
}

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := flag.NewFlagSet("status", flag.ContinueOnError)
	fs.SetOutput(stderr)
	cf := addConsulFlags(fs)
	var s statusScope
	fs.StringVar(&s.node, "node", "", "node name (default the agent's own node; \"*\" for every node)")
	fs.StringVar(&s.role, "role", "", "only the services of this role (mta, proxy, mailstore, directory, replica, all)")
	fs.StringVar(&s.service, "service", "", "only this Consul service name, e.g. carbonio-mta-smtp")
	fs.StringVar(&s.checkID, "check", "", "only this check ID (for one Zabbix item per check)")
	format := fs.String("format", "nagios", "nagios (one line, exit 0/1/2/3), json, or zabbix-discovery")
	if err := fs.Parse(args); err != nil {
		return int(checkscript.Unknown)
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stdout, "HEALTH UNKNOWN - unexpected argument %q\n", fs.Arg(0))
		return int(checkscript.Unknown)
	}
	switch *format {
	case "nagios", "json", "zabbix-discovery":
	default:
		fmt.Fprintf(stdout, "HEALTH UNKNOWN - -format must be nagios, json or zabbix-discovery, not %q\n", *format)
		return int(checkscript.Unknown)
	}
	checks, what, src, err := queryHealth(ctx, cf, &s)
	if err != nil {
		// Never a false OK: whatever stops us from reading is UNKNOWN.
		r := checkscript.Unknownf("HEALTH", err.Error())
		if *format == "nagios" {
			fmt.Fprintln(stdout, r.String())
		} else {
			_ = json.NewEncoder(stdout).Encode(jsonReport(nil, r, nil))
		}
		return int(checkscript.Unknown)
	}
	checks = selectChecks(checks, s)
	r := nagiosReport(checks, what)
	enc := json.NewEncoder(stdout)
	enc.SetIndent("", "  ")
	switch *format {
	case "json":
		_ = enc.Encode(jsonReport(checks, r, src))
	case "zabbix-discovery":
		_ = enc.Encode(zabbixDiscovery(checks))
		return 0
	default:
		fmt.Fprintln(stdout, r.String())
	}
	return int(r.Status)
}

// queryHealth reads the health checks the scope needs with as narrow a
// query as Consul offers, says in words what was asked for, and where each
// check was read: the agent's own node from the agent (fresh output), any
// other scope from the catalog.
func queryHealth(ctx context.Context, cf *consulFlags, s *statusScope) (api.HealthChecks, string, checkSources, error) {
	client, err := cf.client()
	if err != nil {
		return nil, "", nil, err
	}
	addr := cf.config().Address
	q := (&api.QueryOptions{}).WithContext(ctx)
	local := false
	if s.node != "*" {
		self, err := client.Agent().NodeName()
		if err != nil {
			return nil, "", nil, consulError(addr, err)
		}
		local = s.node == "" || s.node == self
		if s.node == "" {
			s.node = self
		}
	}
	if s.node == "*" {
		s.node = ""
	}
	var checks api.HealthChecks
	var src checkSources
	what := "node " + s.node
	switch {
	case local:
		checks, src, err = localHealth(ctx, client, s.node)
		if s.service != "" {
			what = "service " + s.service + " on " + what
		}
	case s.service != "":
		checks, _, err = client.Health().Checks(s.service, q)
		what = "service " + s.service
	case s.node != "":
		checks, _, err = client.Health().Node(s.node, q)
	default:
		checks, _, err = client.Health().State(api.HealthAny, q)
		what = "every node"
	}
	if s.role != "" {
		what = "role " + s.role + " on " + what
	}
	if s.checkID != "" {
		what = "check " + s.checkID
	}
	if err != nil {
		return nil, "", nil, consulError(addr, err)
	}
	return checks, what, src, nil
}

// consulError words a failed read for the operator: unreachable agent, ACL
// denial, or anything else Consul said.
func consulError(addr string, err error) error {
	var se api.StatusError
	switch {
	case errors.As(err, &se) && se.Code == http.StatusForbidden:
		return fmt.Errorf("Consul at %s denied the read (ACL): %s; the token needs node_prefix and service_prefix read", addr, strings.TrimSpace(se.Body))
	case strings.Contains(err.Error(), "connection refused"), strings.Contains(err.Error(), "no such host"),
		strings.Contains(err.Error(), "i/o timeout"):
		return fmt.Errorf("Consul at %s is unreachable: %w", addr, err)
	default:
		return fmt.Errorf("Consul at %s: %w", addr, err)
	}
}
