package systemdprobe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
)

// Wrapper units. Debian runs several daemons as instances of a template
// under a unit that runs nothing itself: postfix.service and
// postgresql.service are Type=oneshot with RemainAfterExit=yes, stay
// "active (exited)" forever, and Want the instances that really run
// (postfix@-.service, postgresql@15-main.service, added by their systemd
// generators). A target that Wants the wrapper would stay OK while the
// daemon is dead. So a service that is active (exited) and wants or requires
// other services is judged by them, followed down to the units that run.

// maxWrapperDepth bounds how many wrappers deep the probe follows.
const maxWrapperDepth = 4

// member is one unit a check judges: a unit a target pulls in, or a unit
// that runs under a wrapper (Via names the outermost wrapper).
type member struct {
	Name, Via string
	State     unitState
}

// isWrapper reports whether a unit in state st runs nothing itself and
// stands for the services it pulls in.
func isWrapper(name string, st unitState) bool {
	return strings.HasSuffix(name, ".service") && st.Active == "active" && st.Sub == "exited" && len(wrapped(st)) > 0
}

// wrapped returns the services a unit wants or requires, once each, sorted.
// Targets, slices and mounts are left out: systemd adds them to every
// service as default dependencies (Requires=sysinit.target).
func wrapped(st unitState) []string {
	var out []string
	for _, u := range append(slices.Clone(st.Wants), st.Requires...) {
		if strings.HasSuffix(u, ".service") {
			out = append(out, u)
		}
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// readMembers reads the state of each named unit, replacing a wrapper by
// the units it runs when follow is set. A unit systemd does not know is
// kept with LoadState "not-found"; a failed read is returned as an error
// that names parent and how far it got.
func readMembers(ctx context.Context, bus *systemdBus, parent string, names []string, follow bool) ([]member, error) {
	seen := map[string]bool{parent: true}
	var out []member
	for i, name := range names {
		got, err := readMember(ctx, bus, name, "", follow, 0, seen)
		if err != nil {
			return nil, fmt.Errorf("%w (%s: %d of %d units read)", err, parent, i, len(names))
		}
		out = append(out, got...)
	}
	return out, nil
}

// readMember reads one unit and, when it is a wrapper (and depth allows),
// the units under it instead.
func readMember(ctx context.Context, bus *systemdBus, name, via string, follow bool, depth int, seen map[string]bool) ([]member, error) {
	seen[name] = true
	st, err := bus.unit(ctx, name)
	switch {
	case errors.Is(err, errUnitNotFound):
		st = unitState{Load: "not-found"}
	case err != nil:
		return nil, err
	}
	if !follow || depth >= maxWrapperDepth || !isWrapper(name, st) {
		return []member{{Name: name, Via: via, State: st}}, nil
	}
	if via == "" {
		via = name
	}
	var out []member
	for _, inner := range wrapped(st) {
		if seen[inner] {
			continue
		}
		got, err := readMember(ctx, bus, inner, via, follow, depth+1, seen)
		if err != nil {
			return nil, err
		}
		out = append(out, got...)
	}
	if len(out) == 0 {
		// Everything it wants was seen already: judge the wrapper itself.
		return []member{{Name: name, State: st}}, nil
	}
	return out, nil
}
