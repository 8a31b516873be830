package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/zextras/carbonio-health/hcl"
)

func runPlan(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(ctx, "plan", stderr)
	var dirs []string
	addConfigDirFlag(fs, &dirs)
	asJSON := fs.Bool("json", false, "print the plan as JSON")
	asMarkdown := fs.Bool("markdown", false, "print the catalog as a Markdown table (the one in hcl/README.md)")
	diff := fs.Bool("diff", false, "also compare with the local Consul agent: what run would add, change and remove (exit 2 when something would change)")
	self := fs.String("self", "", "path of the carbonio-health binary the agent runs for script checks, as given to run (default this executable; "+CheckBinary+" next to it runs the light probes)")
	cf := addConsulFlags(fs)
	defer cf.close()
	if err := fs.Parse(args); err != nil {
		return 2
	}
	plan, err := hcl.Load(loadOptions(dirs))
	if err != nil {
		fmt.Fprintln(stderr, err)
		return 1
	}
	if *asJSON {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		if err := enc.Encode(planView(plan)); err != nil {
			fmt.Fprintln(stderr, err)
			return 1
		}
		return 0
	}
	if *asMarkdown {
		writeMarkdown(stdout, plan)
		return 0
	}
	writePlan(stdout, plan)
	if *diff {
		return writeAgentDiff(ctx, stdout, stderr, plan, cf, *self)
	}
	return 0
}

// writePlan prints the plan for a person: node, services with their checks,
// and the endpoints left out with the reason.
func writePlan(w io.Writer, plan *hcl.Plan) {
	n := plan.Node
	fmt.Fprintf(w, "Node: roles %s; features %s; address %s\n\n",
		strings.Join(n.Roles, ", "), orNone(n.Features), n.Address)
	fmt.Fprintf(w, "Services to register (%d):\n", len(plan.Services))
	for _, s := range plan.Services {
		endpoint := "no port"
		if s.Port != 0 {
			endpoint = fmt.Sprintf("%s:%d", s.Address, s.Port)
		}
		cond := ""
		if s.Condition != "" {
			cond = "  if " + s.Condition
		}
		fmt.Fprintf(w, "  %s  %s  [%s]%s\n", s.Name, endpoint, strings.Join(s.Tags, " "), cond)
		for _, c := range s.Checks {
			fmt.Fprintf(w, "      %-6s  %s  (%s)\n", c.Kind, checkTarget(c), checkTiming(c))
		}
	}
	fmt.Fprintf(w, "\nNot registered (%d):\n", len(plan.Skipped))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, s := range plan.Skipped {
		fmt.Fprintf(tw, "  %s\t%s\n", s.Name, s.Reason)
	}
	_ = tw.Flush()
	writeTargets(w, plan)
}

// writeTargets names each role's systemd target and the units left out of
// the targets' checks.
func writeTargets(w io.Writer, plan *hcl.Plan) {
	if len(plan.Targets) == 0 {
		return
	}
	fmt.Fprintf(w, "\nsystemd targets, each checked with every unit it wants or requires (%d):\n", len(plan.Targets))
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, t := range plan.Targets {
		fmt.Fprintf(tw, "  role %s\t%s\n", t.Role, t.Unit)
	}
	_ = tw.Flush()
	if len(plan.ExcludedUnits) == 0 {
		return
	}
	fmt.Fprintf(w, "\nUnits not checked in the targets (%d):\n", len(plan.ExcludedUnits))
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, x := range plan.ExcludedUnits {
		fmt.Fprintf(tw, "  %s\tfeature %q is not enabled on this node\n", x.Unit, x.Feature)
	}
	_ = tw.Flush()
}

// writeMarkdown prints one table row per check: the catalog table of hcl/README.md.
func writeMarkdown(w io.Writer, plan *hcl.Plan) {
	fmt.Fprintln(w, "| role | service | endpoint | check | kind | what it runs | condition |")
	fmt.Fprintln(w, "|---|---|---|---|---|---|---|")
	for _, s := range plan.Services {
		endpoint := ""
		if s.Port != 0 {
			endpoint = fmt.Sprintf("%s:%d", s.Address, s.Port)
		}
		for _, c := range s.Checks {
			target := checkTarget(c)
			if c.Kind == hcl.KindScript || c.Kind == hcl.KindTTL {
				target = strings.TrimPrefix(target, "carbonio-health check ")
			}
			fmt.Fprintf(w, "| %s | %s | %s | %s | %s | `%s` | %s |\n",
				s.Role, s.Name, endpoint, c.Key, c.Kind, target, s.Condition)
		}
	}
}

// checkTarget says what a check looks at.
func checkTarget(c hcl.Check) string {
	switch c.Kind {
	case hcl.KindTCP:
		return c.TCP
	case hcl.KindHTTP:
		return c.HTTP
	default:
		return strings.Join(c.ScriptArgs("carbonio-health"), " ")
	}
}

func checkTiming(c hcl.Check) string {
	if c.Kind == hcl.KindTTL {
		return fmt.Sprintf("every %s, ttl %s", c.Interval, c.TTL)
	}
	return fmt.Sprintf("every %s, timeout %s", c.Interval, c.Timeout)
}

func orNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// The JSON form of a plan, with durations as strings.
type (
	planJSON struct {
		Node          hcl.Node           `json:"node"`
		Services      []serviceJSON      `json:"services"`
		Skipped       []hcl.Skipped      `json:"skipped"`
		Targets       []hcl.Target       `json:"targets"`
		ExcludedUnits []hcl.ExcludedUnit `json:"excluded_units"`
	}
	serviceJSON struct {
		ID          string            `json:"id"`
		Name        string            `json:"name"`
		Role        string            `json:"role"`
		Description string            `json:"description,omitempty"`
		Address     string            `json:"address"`
		Port        int               `json:"port,omitempty"`
		Tags        []string          `json:"tags"`
		Meta        map[string]string `json:"meta,omitempty"`
		Condition   string            `json:"condition,omitempty"`
		Declared    string            `json:"declared"`
		Checks      []checkJSON       `json:"checks"`
	}
	checkJSON struct {
		ID       string   `json:"id"`
		Name     string   `json:"name"`
		Kind     string   `json:"kind"`
		Target   string   `json:"target"`
		Args     []string `json:"args,omitempty"`
		Interval string   `json:"interval"`
		Timeout  string   `json:"timeout"`
		TTL      string   `json:"ttl,omitempty"`
	}
)

func planView(p *hcl.Plan) planJSON {
	out := planJSON{Node: p.Node, Skipped: p.Skipped, Services: []serviceJSON{},
		Targets: append([]hcl.Target{}, p.Targets...), ExcludedUnits: append([]hcl.ExcludedUnit{}, p.ExcludedUnits...)}
	for _, s := range p.Services {
		sj := serviceJSON{ID: s.ID, Name: s.Name, Role: s.Role, Description: s.Description, Address: s.Address,
			Port: s.Port, Tags: s.Tags, Meta: s.Meta, Condition: s.Condition, Declared: s.DeclRange.String()}
		for _, c := range s.Checks {
			cj := checkJSON{ID: c.ID, Name: c.Name, Kind: string(c.Kind), Target: checkTarget(c),
				Interval: c.Interval.String(), Timeout: c.Timeout.String()}
			if c.Kind == hcl.KindScript || c.Kind == hcl.KindTTL {
				cj.Args = c.ScriptArgs("carbonio-health")
			}
			if c.TTL > 0 {
				cj.TTL = c.TTL.String()
			}
			sj.Checks = append(sj.Checks, cj)
		}
		out.Services = append(out.Services, sj)
	}
	return out
}
