package hcl

import (
	"fmt"

	hcl2 "github.com/hashicorp/hcl/v2"
)

// applyOverrides merges every override block into the service it names:
// attributes replace the declared ones, args merge key by key, checks with
// a known label merge the same way and new labels add a check. An override
// of a service that is not declared is an error pointing at the override.
func (d *decls) applyOverrides() hcl2.Diagnostics {
	var diags hcl2.Diagnostics
	for _, o := range d.overrides {
		target := d.findService(o.role, o.key)
		if target == nil {
			r := o.defRange
			diags = append(diags, &hcl2.Diagnostic{
				Severity: hcl2.DiagError,
				Summary:  "Override of an undeclared service",
				Detail:   fmt.Sprintf("No role %q declares a service %q.%s", o.role, o.key, d.suggestService(o.role)),
				Subject:  &r,
			})
			continue
		}
		for name, a := range o.attrs {
			target.attrs[name] = a
		}
		for _, oc := range o.checks {
			tc := target.findCheck(oc.key)
			if tc == nil {
				target.checks = append(target.checks, oc)
				continue
			}
			for name, a := range oc.attrs {
				tc.attrs[name] = a
			}
			tc.args = append(tc.args, oc.args...)
		}
	}
	return diags
}

func (d *decls) findService(role, key string) *serviceDecl {
	r, ok := d.roles[role]
	if !ok {
		return nil
	}
	for _, s := range r.services {
		if s.key == key {
			return s
		}
	}
	return nil
}

// suggestService lists what the role does declare, to help with typos.
func (d *decls) suggestService(role string) string {
	r, ok := d.roles[role]
	if !ok {
		return fmt.Sprintf(" Known roles: %s.", joinQuoted(sortedKeys(d.roles)))
	}
	keys := make([]string, len(r.services))
	for i, s := range r.services {
		keys[i] = s.key
	}
	return fmt.Sprintf(" Role %q declares: %s.", role, joinQuoted(keys))
}

func (s *serviceDecl) findCheck(key string) *checkDecl {
	for _, c := range s.checks {
		if c.key == key {
			return c
		}
	}
	return nil
}
