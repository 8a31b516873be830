package hcl

import (
	"fmt"

	hcl2 "github.com/hashicorp/hcl/v2"
)

// The raw declarations, as written, before overrides and conditions. They
// keep attributes unevaluated (with their ranges) so later stages can merge
// and report precisely.

// decls is everything read from all files.
type decls struct {
	nodes     []*nodeDecl
	features  map[string]*featureDecl
	roles     map[string]*roleDecl
	overrides []*serviceDecl // Role and Key name the target
}

type nodeDecl struct {
	attrs    hcl2.Attributes
	defRange hcl2.Range
}

type featureDecl struct {
	name        string
	description *hcl2.Attribute
	units       *hcl2.Attribute
	defRange    hcl2.Range
}

type roleDecl struct {
	name        string
	description *hcl2.Attribute
	// target is the role's systemd target, "" when it has none.
	target   string
	defRange hcl2.Range
	services []*serviceDecl
}

type serviceDecl struct {
	role, key string
	defRange  hcl2.Range
	attrs     hcl2.Attributes
	checks    []*checkDecl
}

type checkDecl struct {
	key      string
	defRange hcl2.Range
	attrs    hcl2.Attributes
	// target is set on the check a role's target declares: the units of
	// features the node does not have are left out of it.
	target bool
	// args are the layers of the args attribute: the declaration's first,
	// then each override's, merged key by key at resolution.
	args []*hcl2.Attribute
}

func newDecls() *decls {
	return &decls{features: map[string]*featureDecl{}, roles: map[string]*roleDecl{}}
}

// addFile decodes one parsed file into d.
func (d *decls) addFile(body hcl2.Body) hcl2.Diagnostics {
	content, diags := body.Content(fileSchema)
	for _, b := range content.Blocks {
		switch b.Type {
		case "node":
			attrs, ds := decodeAttrs(b.Body, nodeSchema)
			diags = append(diags, ds...)
			d.nodes = append(d.nodes, &nodeDecl{attrs: attrs, defRange: b.DefRange})
		case "feature":
			diags = append(diags, d.addFeature(b)...)
		case "role":
			diags = append(diags, d.addRole(b)...)
		case "override":
			s, ds := decodeService(b, b.Labels[0], b.Labels[1])
			diags = append(diags, ds...)
			d.overrides = append(d.overrides, s)
		}
	}
	return diags
}

func (d *decls) addFeature(b *hcl2.Block) hcl2.Diagnostics {
	attrs, diags := decodeAttrs(b.Body, featureSchema)
	name := b.Labels[0]
	if prev, dup := d.features[name]; dup {
		return append(diags, duplicate("feature", name, b, prev.defRange))
	}
	d.features[name] = &featureDecl{name: name, defRange: b.DefRange, description: attrs["description"], units: attrs["units"]}
	return diags
}

func (d *decls) addRole(b *hcl2.Block) hcl2.Diagnostics {
	name := b.Labels[0]
	if prev, dup := d.roles[name]; dup {
		return hcl2.Diagnostics{duplicate("role", name, b, prev.defRange)}
	}
	content, diags := b.Body.Content(roleSchema)
	r := &roleDecl{name: name, defRange: b.DefRange, description: content.Attributes["description"]}
	seen := map[string]hcl2.Range{}
	if ta, ok := content.Attributes["target"]; ok {
		unit, s, ds := targetService(name, ta)
		diags = append(diags, ds...)
		if s != nil {
			r.target = unit
			r.services = append(r.services, s)
			seen[s.key] = ta.Range
		}
	}
	for _, sb := range content.Blocks {
		key := sb.Labels[0]
		if prev, dup := seen[key]; dup {
			diags = append(diags, duplicate("service", name+"."+key, sb, prev))
			continue
		}
		seen[key] = sb.DefRange
		s, ds := decodeService(sb, name, key)
		diags = append(diags, ds...)
		r.services = append(r.services, s)
	}
	d.roles[name] = r
	return diags
}

// decodeService decodes a service or override block.
func decodeService(b *hcl2.Block, role, key string) (*serviceDecl, hcl2.Diagnostics) {
	content, diags := b.Body.Content(serviceSchema)
	s := &serviceDecl{role: role, key: key, defRange: b.DefRange, attrs: content.Attributes}
	seen := map[string]hcl2.Range{}
	for _, cb := range content.Blocks {
		ck := cb.Labels[0]
		if prev, dup := seen[ck]; dup {
			diags = append(diags, duplicate("check", role+"."+key+"."+ck, cb, prev))
			continue
		}
		seen[ck] = cb.DefRange
		attrs, ds := decodeAttrs(cb.Body, checkSchema)
		diags = append(diags, ds...)
		c := &checkDecl{key: ck, defRange: cb.DefRange, attrs: attrs}
		if a, ok := attrs["args"]; ok {
			c.args = []*hcl2.Attribute{a}
			delete(attrs, "args")
		}
		s.checks = append(s.checks, c)
	}
	return s, diags
}

func decodeAttrs(body hcl2.Body, schema *hcl2.BodySchema) (hcl2.Attributes, hcl2.Diagnostics) {
	content, diags := body.Content(schema)
	return content.Attributes, diags
}

// duplicate reports a second declaration of the same thing, pointing at
// both.
func duplicate(what, name string, b *hcl2.Block, prev hcl2.Range) *hcl2.Diagnostic {
	r := b.DefRange
	hint := ""
	if what == "service" || what == "role" {
		hint = " Use an override block to change a declared service."
	}
	return &hcl2.Diagnostic{
		Severity: hcl2.DiagError,
		Summary:  fmt.Sprintf("Duplicate %s %q", what, name),
		Detail:   fmt.Sprintf("A %s named %q was already declared at %s.%s", what, name, pos(prev), hint),
		Subject:  &r,
		Context:  hcl2.RangeBetween(b.TypeRange, b.DefRange).Ptr(),
	}
}
