package main

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/hcl"
)

// The pure half of `status`: which of Consul's health checks are in scope,
// and how they are answered as a Nagios plugin line, JSON, or Zabbix
// low-level discovery. No I/O here.

// statusScope selects the checks a status query answers for.
type statusScope struct {
	node    string // only checks of this node ("" = any)
	role    string // only services of this role
	service string // only this Consul service name
	checkID string // only this check
}

// serviceRef names one service instance: its node and its service ID.
type serviceRef struct{ node, id string }

// ownedSet holds the service instances carbonio-health owns, by the one rule
// the daemon uses too: their Meta (registrar.Owned). An ID that merely starts
// with hcl.IDPrefix does not make a service ours.
type ownedSet map[serviceRef]bool

// owns reports whether c belongs to a service this tool owns.
func (o ownedSet) owns(c *api.HealthCheck) bool {
	return c.ServiceID != "" && o[serviceRef{c.Node, c.ServiceID}]
}

// selectChecks keeps the checks in scope: those of the services this tool
// owns and, for a whole node, the node's own checks (serfHealth,
// maintenance), since a dead agent makes every other answer stale.
func selectChecks(all api.HealthChecks, owned ownedSet, s statusScope) api.HealthChecks {
	var out api.HealthChecks
	for _, c := range all {
		if s.node != "" && c.Node != s.node {
			continue
		}
		ours := owned.owns(c)
		nodeLevel := c.ServiceID == ""
		switch {
		case s.checkID != "":
			if c.CheckID != s.checkID || !(ours || nodeLevel) {
				continue
			}
		case s.service != "":
			if c.ServiceName != s.service || !ours {
				continue
			}
		case s.role != "":
			if !ours || roleOf(c) != s.role {
				continue
			}
		default:
			if !ours && !(nodeLevel && s.node != "") {
				continue
			}
		}
		out = append(out, c)
	}
	slices.SortFunc(out, func(a, b *api.HealthCheck) int {
		return cmp.Or(cmp.Compare(a.Node, b.Node), cmp.Compare(a.CheckID, b.CheckID))
	})
	return out
}

// roleOf is the role of a check of an owned service, from its ID
// (carbonio-health:<role>:<key>); "" for any other check.
func roleOf(c *api.HealthCheck) string { return hcl.RoleOf(c.ServiceID) }

// checkState maps Consul's health status to the plugin state; maintenance
// and anything unknown count as critical, as Consul itself treats them.
func checkState(status string) checkscript.Status {
	switch status {
	case api.HealthPassing:
		return checkscript.OK
	case api.HealthWarning:
		return checkscript.Warning
	case statusUnknown:
		return checkscript.Unknown
	default:
		return checkscript.Critical
	}
}

// maxNamed bounds how many failing checks the one-line answer names.
const maxNamed = 5

// newestFirst orders failing checks by how recently they were written to the
// catalog, newest first: a check's ModifyIndex moves when its status
// changes (and when its output is written: a steady form moves only with
// the state). So on a node that already has other failures, the one that
// just happened leads the line, and the rest are counted. Consul keeps no
// "since" time for a check; its index is the catalog's own clock. Ties keep
// the ID order.
func newestFirst(checks api.HealthChecks) {
	slices.SortStableFunc(checks, func(a, b *api.HealthCheck) int {
		return cmp.Compare(b.ModifyIndex, a.ModifyIndex)
	})
}

// nagiosReport answers for the checks in scope as one plugin line: the worst
// state wins, the failing checks are named with their output, newest
// failure first (newestFirst), and perfdata counts each state. No check at
// all is UNKNOWN, never a false OK.
func nagiosReport(checks api.HealthChecks, what string) checkscript.Result {
	r := checkscript.Result{Label: "HEALTH"}
	if len(checks) == 0 {
		r.Status = checkscript.Unknown
		r.Summary = fmt.Sprintf("no checks found for %s (not registered, or the token may not read them)", what)
		return r
	}
	counts := map[checkscript.Status]int{}
	var bad api.HealthChecks
	for _, c := range checks {
		st := checkState(c.Status)
		counts[st]++
		r.Status = checkscript.Worst(r.Status, st)
		if st != checkscript.OK {
			bad = append(bad, c)
		}
	}
	newestFirst(bad)
	failing := make([]string, 0, len(bad))
	for _, c := range bad {
		failing = append(failing, fmt.Sprintf("%s: %s", checkLabel(c), outputSummary(c.Output)))
	}
	n := len(checks)
	if len(failing) == 0 {
		r.Summary = fmt.Sprintf("%d checks passing on %s", n, what)
	} else {
		more := ""
		if len(failing) > maxNamed {
			more = fmt.Sprintf("; and %d more", len(failing)-maxNamed)
			failing = failing[:maxNamed]
		}
		unknown := ""
		if counts[checkscript.Unknown] > 0 {
			unknown = fmt.Sprintf(", %d unknown", counts[checkscript.Unknown])
		}
		r.Summary = fmt.Sprintf("%d critical, %d warning%s of %d checks on %s: %s%s",
			counts[checkscript.Critical], counts[checkscript.Warning], unknown, n, what, strings.Join(failing, "; "), more)
	}
	max := fmt.Sprint(n)
	for _, p := range []struct {
		label string
		st    checkscript.Status
	}{{"passing", checkscript.OK}, {"warning", checkscript.Warning}, {"critical", checkscript.Critical}} {
		r.Perfdata = append(r.Perfdata, checkscript.Perfdata{Label: p.label, Value: float64(counts[p.st]), Min: "0", Max: max})
	}
	return r
}

// checkLabel names a check for people: its service and name.
func checkLabel(c *api.HealthCheck) string {
	if c.ServiceName == "" {
		return c.Node + " " + c.Name
	}
	return c.Name
}

// outputSummary keeps a check's output to one short line for the summary:
// the text of its first line without the perfdata of plugin outputs.
func outputSummary(s string) string {
	text, _, _ := strings.Cut(s, "|")
	s = strings.TrimSpace(checkscript.FirstLine(strings.TrimSpace(text)))
	const max = 120
	if r := []rune(s); len(r) > max {
		s = string(r[:max-1]) + "…"
	}
	if s == "" {
		return "no output"
	}
	return s
}

// checkJSON is one check in `status -format json`.
type statusCheckJSON struct {
	Node        string `json:"node"`
	CheckID     string `json:"check_id"`
	Name        string `json:"name"`
	Status      string `json:"status"`
	ServiceID   string `json:"service_id,omitempty"`
	ServiceName string `json:"service_name,omitempty"`
	Output      string `json:"output"`
	// Source is where the check was read: "agent" (the local agent's
	// own, fresh view) or "catalog".
	Source string `json:"source"`
}

// statusJSON is the whole `status -format json` answer.
type statusJSON struct {
	Status string         `json:"status"`
	Code   int            `json:"code"`
	Line   string         `json:"line"`
	Counts map[string]int `json:"counts"`
	// Source is "agent" when the checks of the agent's own node were read
	// from the agent (node-level checks such as serfHealth still come from
	// the catalog: see each check's source), else "catalog".
	Source string            `json:"source"`
	Checks []statusCheckJSON `json:"checks"`
}

func jsonReport(checks api.HealthChecks, r checkscript.Result, src checkSources) statusJSON {
	out := statusJSON{Status: r.Status.String(), Code: int(r.Status), Line: r.String(),
		Counts: map[string]int{api.HealthPassing: 0, api.HealthWarning: 0, api.HealthCritical: 0},
		Source: sourceCatalog, Checks: []statusCheckJSON{}}
	if src != nil {
		out.Source = sourceAgent
	}
	for _, c := range checks {
		out.Counts[c.Status]++
		s := src.of(c)
		out.Checks = append(out.Checks, statusCheckJSON{Node: c.Node, CheckID: c.CheckID, Name: c.Name,
			Status: c.Status, ServiceID: c.ServiceID, ServiceName: c.ServiceName, Output: c.Output, Source: s})
	}
	return out
}

// zabbixDiscovery is Zabbix low-level discovery JSON: one entry per check
// selectChecks kept (never a foreign service's), so a template's item
// prototype `carbonio-health status -check {#CHECKID}` gets one item per
// check.
func zabbixDiscovery(checks api.HealthChecks) map[string][]map[string]string {
	data := []map[string]string{}
	for _, c := range checks {
		data = append(data, map[string]string{
			"{#NODE}": c.Node, "{#CHECKID}": c.CheckID, "{#CHECKNAME}": c.Name,
			"{#SERVICE}": c.ServiceName, "{#SERVICEID}": c.ServiceID, "{#ROLE}": roleOf(c),
		})
	}
	return map[string][]map[string]string{"data": data}
}
