package registrar

import (
	"context"
	"slices"

	"github.com/hashicorp/consul/api"
)

// Diff is what a reconcile pass would change in the agent, found without
// writing anything (`carbonio-health plan -diff`).
type Diff struct {
	// Add are declared service IDs the agent does not hold; Change those it
	// holds with another definition (or missing checks).
	Add, Change []string
	// Remove are owned services no longer declared.
	Remove []string
	// Conflicts are declared IDs held by services this tool does not own.
	Conflicts []string
	// InSync counts the declared services the agent holds as declared.
	InSync int
}

// Empty reports whether a pass would write nothing.
func (d Diff) Empty() bool {
	return len(d.Add)+len(d.Change)+len(d.Remove) == 0
}

// DiffAgent compares st with the agent's services (two reads). Services
// with script checks compare the same whichever way they are delivered.
func DiffAgent(ctx context.Context, client *api.Client, st State) (Diff, error) {
	r := Reconciler{Client: client}
	services, checks, err := r.read(ctx)
	if err != nil {
		return Diff{}, err
	}
	var d Diff
	for _, s := range st.Services {
		have := services[s.ID()]
		switch {
		case have == nil:
			d.Add = append(d.Add, s.ID())
		case !Owned(have):
			d.Conflicts = append(d.Conflicts, s.ID())
		case inSync(s, have, checks):
			d.InSync++
		default:
			d.Change = append(d.Change, s.ID())
		}
	}
	// The metrics endpoint follows run's -metrics-addr, which a plan does
	// not know: its registration is not reported as one to remove.
	d.Remove = slices.DeleteFunc(staleOwned(services, st), func(id string) bool { return id == ExporterName })
	return d, nil
}

// staleOwned returns the IDs of owned agent services st does not declare,
// sorted.
func staleOwned(services map[string]*api.AgentService, st State) []string {
	wanted := make(map[string]bool, len(st.Services))
	for _, s := range st.Services {
		wanted[s.ID()] = true
	}
	var stale []string
	for id, svc := range services {
		if Owned(svc) && !wanted[id] {
			stale = append(stale, id)
		}
	}
	slices.Sort(stale)
	return stale
}
