package hcl

import (
	"fmt"
	"strings"

	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
)

// A role's systemd target. `target = "carbonio-mta.target"` in a role block
// declares the role's "units" service: one script check running the systemd
// probe on the target, which checks every unit the target wants or requires
// (read from systemd at each run, so a Carbonio release that adds a unit needs
// no catalog change). Units of features the node does not have (a feature's
// `units`) are left out with -x, and `plan` names them.

// TargetServiceKey and TargetCheckKey name the service and check a role's
// target declares, so overrides can change them like any other:
// override "mta" "units" { check "target" { interval = "60s" } }.
const (
	TargetServiceKey = "units"
	TargetCheckKey   = "target"
)

// targetService decodes a role's target attribute into the service that
// checks it. It returns the target's unit name.
func targetService(role string, a *hcl2.Attribute) (string, *serviceDecl, hcl2.Diagnostics) {
	var unit string
	if ds := decodeExpression(a.Expr, nil, &unit); ds.HasErrors() {
		return "", nil, ds
	}
	if !strings.HasSuffix(unit, ".target") || len(unit) == len(".target") {
		rng := a.Expr.Range()
		return "", nil, hcl2.Diagnostics{{
			Severity: hcl2.DiagError,
			Summary:  "Invalid target",
			Detail:   fmt.Sprintf("target %q must name a systemd target unit, like \"carbonio-%s.target\".", unit, role),
			Subject:  &rng,
		}}
	}
	rng := a.Range
	static := func(v cty.Value) *hcl2.Attribute {
		return &hcl2.Attribute{Expr: hcl2.StaticExpr(v, a.Expr.Range()), Range: rng, NameRange: a.NameRange}
	}
	check := &checkDecl{
		key:      TargetCheckKey,
		defRange: rng,
		target:   true,
		attrs: hcl2.Attributes{
			"type":  static(cty.StringVal(string(KindScript))),
			"probe": static(cty.StringVal("systemd")),
			"notes": static(cty.StringVal(fmt.Sprintf("Every systemd unit %s wants or requires is running (the list is read from systemd at each run). "+
				"A failed unit means that Carbonio service is down on this node: the output names it; `systemctl status <unit>` says why.", unit))),
		},
		args: []*hcl2.Attribute{static(cty.ObjectVal(map[string]cty.Value{"u": cty.StringVal(unit)}))},
	}
	svc := &serviceDecl{
		role: role, key: TargetServiceKey, defRange: rng,
		attrs: hcl2.Attributes{
			"description": static(cty.StringVal("systemd units of " + unit)),
			"tags":        static(cty.ListVal([]cty.Value{cty.StringVal("systemd")})),
		},
		checks: []*checkDecl{check},
	}
	return unit, svc, nil
}

// excludedUnits reads every feature's units and returns those of the
// features this node does not have, sorted by feature.
func (r *resolver) excludedUnits() []ExcludedUnit {
	var out []ExcludedUnit
	for _, name := range sortedKeys(r.d.features) {
		a := r.d.features[name].units
		if a == nil {
			continue
		}
		var units []string
		if ds := decodeExpression(a.Expr, nil, &units); ds.HasErrors() {
			r.diags = append(r.diags, ds...)
			continue
		}
		if r.features[name] {
			continue
		}
		for _, u := range units {
			out = append(out, ExcludedUnit{Unit: u, Feature: name})
		}
	}
	return out
}

// excludeArgs are the systemd probe's -x flags for the excluded units.
func (r *resolver) excludeArgs() []string {
	var out []string
	for _, x := range r.excluded {
		out = append(out, "-x", x.Unit)
	}
	return out
}
