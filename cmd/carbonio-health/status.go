package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/consulstatus"
	"github.com/zextras/carbonio-health/registrar"
)

// statusTimeout bounds a status query, as the plugins' own -t does (10 s).
const statusTimeout = 10 * time.Second

func runStatus(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(ctx, "status", stderr)
	cf := addConsulFlags(fs)
	defer cf.close()
	var s statusScope
	fs.StringVar(&s.node, "node", "", "node name (default the agent's own node; \"*\" for every node)")
	fs.StringVar(&s.role, "role", "", "only the services of this role (mta, proxy, mailstore, directory, replica, all)")
	fs.StringVar(&s.service, "service", "", "only this Consul service name, e.g. carbonio-mta-smtp")
	fs.StringVar(&s.checkID, "check", "", "only this check ID (for one Zabbix item per check)")
	format := fs.String("format", "nagios", "nagios (one line, exit 0/1/2/3), json, or zabbix-discovery")
	timeout := fs.Duration("timeout", statusTimeout, "give up and answer UNKNOWN when Consul has not answered within this time (an agent that accepts connections but does not answer, e.g. frozen)")
	if err := fs.Parse(args); err != nil {
		if !errors.Is(err, flag.ErrHelp) { // a plugin's answer is its first line on stdout
			fmt.Fprintln(stdout, checkscript.Unknownf("HEALTH", err.Error()).String())
		}
		return int(checkscript.Unknown)
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
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
	checks, owned, what, src, err := queryHealth(ctx, cf, &s)
	var stale staleNodes
	if err == nil {
		stale, err = readStaleNodes(ctx, cf)
	}
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
	checks = selectChecks(checks, owned, s)
	stale.addUnfed(checks)
	checks = collapseStale(checks, stale, s.node == "" && s.service == "" && s.role == "" && s.checkID == "")
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
// query as Consul offers, which of their services this tool owns, says in
// words what was asked for, and where each check was read: the agent's own
// node from the agent (fresh output), any other scope from the catalog.
func queryHealth(ctx context.Context, cf *consulFlags, s *statusScope) (api.HealthChecks, ownedSet, string, checkSources, error) {
	client, err := cf.client()
	if err != nil {
		return nil, nil, "", nil, err
	}
	addr := cf.config().Address
	q := (&api.QueryOptions{}).WithContext(ctx)
	local := false
	if s.node != "*" {
		self, err := client.Agent().NodeName()
		if err != nil {
			return nil, nil, "", nil, consulError(addr, err)
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
		return nil, nil, "", nil, consulError(addr, err)
	}
	var owned ownedSet
	if local {
		owned, err = localOwnedServices(client.Agent(), s.node, q)
	} else {
		owned, err = ownedServices(client.Catalog(), checks, q)
	}
	if err != nil {
		return nil, nil, "", nil, consulError(addr, err)
	}
	return checks, owned, what, src, nil
}

// localOwnedServices is ownedServices for the agent's own node, read from
// the agent, which holds services the catalog may not have yet.
func localOwnedServices(agent *api.Agent, node string, q *api.QueryOptions) (ownedSet, error) {
	svcs, err := agent.ServicesWithFilterOpts("", q)
	if err != nil {
		return nil, err
	}
	owned := ownedSet{}
	for _, svc := range svcs {
		if registrar.Owned(svc) {
			owned[serviceRef{node, svc.ID}] = true
		}
	}
	return owned, nil
}

// ownedServices reads the Meta of the services the checks belong to, one
// catalog read per node, and keeps those registrar.Owned recognises.
func ownedServices(catalog *api.Catalog, checks api.HealthChecks, q *api.QueryOptions) (ownedSet, error) {
	owned := ownedSet{}
	read := map[string]bool{}
	for _, c := range checks {
		if c.ServiceID == "" || read[c.Node] {
			continue
		}
		read[c.Node] = true
		ns, _, err := catalog.NodeServiceList(c.Node, q)
		if err != nil {
			return nil, err
		}
		if ns == nil {
			continue // the node left between the two reads
		}
		for _, svc := range ns.Services {
			if registrar.Owned(svc) {
				owned[serviceRef{c.Node, svc.ID}] = true
			}
		}
	}
	return owned, nil
}

// consulError words a failed read for the operator: unreachable agent, ACL
// denial, or anything else Consul said (consulstatus.Classify decides).
func consulError(addr string, err error) error {
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("Consul at %s did not answer in time: %w", addr, err)
	}
	switch consulstatus.Classify(err) {
	case consulstatus.Denied:
		return fmt.Errorf("Consul at %s denied the read (ACL): %s; the token needs node_prefix and service_prefix read", addr, consulstatus.Reason(err))
	case consulstatus.Unreachable:
		return fmt.Errorf("Consul at %s is unreachable: %w", addr, err)
	default:
		return fmt.Errorf("Consul at %s: %w", addr, err)
	}
}
