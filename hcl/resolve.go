package hcl

import (
	"cmp"
	"fmt"
	"path/filepath"
	"regexp"
	"slices"
	"sync"

	hcl2 "github.com/hashicorp/hcl/v2"
)

// AllRole is the role every node has, whatever its node file says.
const AllRole = "all"

// DefaultAddress is where checks connect when the node file names no address.
const DefaultAddress = "127.0.0.1"

// The name rules, compiled on first use: every exec of the binary (a
// script check runs `carbonio-health check …`) would pay for compiling them
// at start-up, metaKeyRe's {1,128} alone is some 1700 allocations.
var (
	serviceNameRe = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[a-z0-9]([a-z0-9-]*[a-z0-9])?$`) })
	metaKeyRe     = sync.OnceValue(func() *regexp.Regexp { return regexp.MustCompile(`^[A-Za-z0-9_-]{1,128}$`) })
)

// resolver turns merged declarations into a Plan, collecting diagnostics.
type resolver struct {
	d     *decls
	diags hcl2.Diagnostics
	// order ranks the source files as they were read, so that of two
	// attributes that disagree the later one is blamed.
	order map[string]int

	roles    map[string]bool
	features map[string]bool
	// excluded are the units of features the node does not have.
	excluded []ExcludedUnit
}

func (r *resolver) resolve() *Plan {
	plan := &Plan{Node: r.node()}
	for _, name := range sortedKeys(r.d.features) {
		r.text(r.d.features[name].description)
	}
	r.excluded = r.excludedUnits()
	names := map[string]string{} // Consul name → service ID, across roles
	for _, roleName := range sortedKeys(r.d.roles) {
		role := r.d.roles[roleName]
		r.text(role.description) // validated whether or not a node enables the role
		if role.target != "" && r.roles[roleName] {
			plan.Targets = append(plan.Targets, Target{Role: roleName, Unit: role.target})
		}
		for _, sd := range role.services {
			svc, skip := r.service(plan.Node, sd)
			if svc == nil {
				continue
			}
			if prev, dup := names[svc.Name]; dup {
				r.errorf(sd.defRange, "Duplicate service name",
					"Service name %q is already used by %s; give one of them another name.", svc.Name, prev)
				continue
			}
			names[svc.Name] = svc.ID
			if !r.roles[roleName] {
				skip = fmt.Sprintf("role %q is not enabled on this node", roleName)
			}
			switch {
			case skip != "":
				plan.Skipped = append(plan.Skipped, Skipped{ID: svc.ID, Name: svc.Name, Role: roleName, Reason: skip})
			default:
				plan.Services = append(plan.Services, *svc)
			}
		}
	}
	if len(plan.Targets) > 0 {
		plan.ExcludedUnits = r.excluded
	}
	slices.SortFunc(plan.Services, func(a, b Service) int { return cmp.Compare(a.ID, b.ID) })
	slices.SortFunc(plan.Skipped, func(a, b Skipped) int { return cmp.Compare(a.ID, b.ID) })
	return plan
}

// node reads the node block: at most one, roles and features that exist.
func (r *resolver) node() Node {
	n := Node{Address: DefaultAddress}
	r.roles = map[string]bool{AllRole: true}
	r.features = map[string]bool{}
	if len(r.d.nodes) == 0 {
		n.Roles = []string{AllRole}
		return n
	}
	for _, extra := range r.d.nodes[1:] {
		r.errorf(extra.defRange, "Duplicate node block",
			"Only one node block may be declared; the first is at %s.", pos(r.d.nodes[0].defRange))
	}
	attrs := r.d.nodes[0].attrs
	n.Address = r.str(attrs, "address", DefaultAddress)
	r.names(attrs["roles"], "role", sortedKeys(r.d.roles), r.roles)
	r.names(attrs["features"], "feature", sortedKeys(r.d.features), r.features)
	n.Roles = sortedKeys(r.roles)
	n.Features = sortedKeys(r.features)
	return n
}

// names reads a list of role or feature names, checking each element
// against what is declared and pointing at the element at fault.
func (r *resolver) names(a *hcl2.Attribute, what string, known []string, into map[string]bool) {
	if a == nil {
		return
	}
	elems, ds := hcl2.ExprList(a.Expr)
	if ds.HasErrors() {
		r.errorf(a.Expr.Range(), "Invalid "+what+" list", "%ss must be a list of names, like [\"mta\", \"proxy\"].", what)
		return
	}
	for _, e := range elems {
		var name string
		if ds := decodeExpression(e, nil, &name); ds.HasErrors() {
			r.diags = append(r.diags, ds...)
			continue
		}
		if !slices.Contains(known, name) {
			r.errorf(e.Range(), "Unknown "+what, "No %s %q is declared. Known %ss: %s.", what, name, what, joinQuoted(known))
			continue
		}
		into[name] = true
	}
}

// service resolves one service declaration. It returns nil when the service
// has errors, and a non-empty skip reason when a condition leaves it out.
// Conditional services are fully validated too, so the catalog's errors show
// whatever the node enables.
func (r *resolver) service(node Node, sd *serviceDecl) (*Service, string) {
	before := len(r.diags)
	a := sd.attrs
	svc := &Service{
		ID:          IDPrefix + sd.role + ":" + sd.key,
		Role:        sd.role,
		Key:         sd.key,
		Name:        r.str(a, "name", "carbonio-"+sd.role+"-"+sd.key),
		Description: r.str(a, "description", ""),
		Address:     r.str(a, "address", node.Address),
		Port:        r.port(a),
		Tags:        r.strings(a, "tags"),
		Meta:        r.strMap(a, "meta"),
		DeclRange:   sd.defRange,
	}
	if !serviceNameRe().MatchString(svc.Name) {
		rng := sd.defRange
		if na, ok := a["name"]; ok {
			rng = na.Expr.Range()
		}
		r.errorf(rng, "Invalid service name",
			"Service name %q must be lower-case letters, digits and dashes, to be usable in Consul DNS.", svc.Name)
	}
	if !slices.Contains(svc.Tags, sd.role) {
		svc.Tags = append([]string{sd.role}, svc.Tags...)
	}
	if ma, ok := a["meta"]; ok {
		for k := range svc.Meta {
			if !metaKeyRe().MatchString(k) {
				r.errorf(ma.Expr.Range(), "Invalid meta key", "Meta key %q must be 1-128 letters, digits, '-' or '_'.", k)
			}
		}
	}
	skip := r.conditions(svc, a)
	for _, cd := range sd.checks {
		if c, ok := r.check(svc, cd); ok {
			svc.Checks = append(svc.Checks, c)
		}
	}
	slices.SortFunc(svc.Checks, func(a, b Check) int { return cmp.Compare(a.ID, b.ID) })
	if len(r.diags) > before && r.diags[before:].HasErrors() {
		return nil, ""
	}
	return svc, skip
}

// conditions evaluates enabled, feature and if_present; it fills
// svc.Condition and returns why the service is left out, if it is.
func (r *resolver) conditions(svc *Service, a hcl2.Attributes) string {
	var skip string
	if !r.boolean(a, "enabled", true) {
		skip = fmt.Sprintf("disabled by enabled = false at %s", pos(a["enabled"].Range))
	}
	if fa, ok := a["feature"]; ok {
		f := r.str(a, "feature", "")
		switch {
		case r.d.features[f] == nil:
			r.errorf(fa.Expr.Range(), "Unknown feature", "No feature %q is declared. Known features: %s.",
				f, joinQuoted(sortedKeys(r.d.features)))
		case !r.features[f] && skip == "":
			skip = fmt.Sprintf("feature %q is not enabled on this node", f)
		}
		svc.Condition = fmt.Sprintf("feature %q", f)
	}
	r.presence(svc, a)
	return skip
}

// presence reads if_present and required_by. The path's presence is not
// decided here: the service keeps it in IfPresent, for Plan.Present (at load
// for a snapshot, or by the running daemon). A node with a role named in
// required_by gets the service unconditionally, so a missing folder is a
// critical check there rather than no check.
func (r *resolver) presence(svc *Service, a hcl2.Attributes) {
	pa, ok := a["if_present"]
	if !ok {
		if ra, set := a["required_by"]; set {
			r.errorf(ra.NameRange, "required_by without if_present",
				"required_by names the roles on which the if_present path is mandatory; this service has no if_present.")
		}
		return
	}
	p := r.str(a, "if_present", "")
	if !filepath.IsAbs(p) {
		r.errorf(pa.Expr.Range(), "Relative path", "if_present = %q must be an absolute path.", p)
	}
	required := map[string]bool{}
	r.names(a["required_by"], "role", sortedKeys(r.d.roles), required)
	var on []string
	for _, role := range sortedKeys(required) {
		if r.roles[role] {
			on = append(on, role)
		}
	}
	if svc.Condition != "" {
		svc.Condition += " and "
	}
	if len(on) > 0 {
		svc.Condition += fmt.Sprintf("%s is required by role %s", p, joinQuoted(on))
		return
	}
	svc.Condition += fmt.Sprintf("%s is present", p)
	svc.IfPresent = p
}
