package hcl

import hcl2 "github.com/hashicorp/hcl/v2"

// The block and attribute schemas of the declaration language. Decoding with
// explicit schemas (rather than gohcl struct tags) keeps every attribute's
// range, so overrides can be merged attribute by attribute and every
// diagnostic points at the text at fault.

// fileSchema is the top level of every file.
var fileSchema = &hcl2.BodySchema{
	Blocks: []hcl2.BlockHeaderSchema{
		{Type: "node"},
		{Type: "feature", LabelNames: []string{"name"}},
		{Type: "role", LabelNames: []string{"name"}},
		{Type: "override", LabelNames: []string{"role", "service"}},
	},
}

// nodeSchema: which roles and features this node has.
var nodeSchema = &hcl2.BodySchema{
	Attributes: []hcl2.AttributeSchema{
		{Name: "roles"},
		{Name: "features"},
		{Name: "address"},
	},
}

// featureSchema declares an optional feature services can depend on, and
// the systemd units that only run with it.
var featureSchema = &hcl2.BodySchema{
	Attributes: []hcl2.AttributeSchema{{Name: "description"}, {Name: "units"}},
}

// roleSchema declares a role, its systemd target and its services.
var roleSchema = &hcl2.BodySchema{
	Attributes: []hcl2.AttributeSchema{{Name: "description"}, {Name: "target"}},
	Blocks:     []hcl2.BlockHeaderSchema{{Type: "service", LabelNames: []string{"key"}}},
}

// serviceAttributes are the attributes of a service block; an override block
// takes the same ones.
var serviceAttributes = []string{
	"name", "description", "port", "address", "tags", "meta", "feature", "if_present", "required_by", "enabled",
}

// serviceSchema is a service (or an override of one).
var serviceSchema = &hcl2.BodySchema{
	Attributes: attributeSchemas(serviceAttributes),
	Blocks:     []hcl2.BlockHeaderSchema{{Type: "check", LabelNames: []string{"key"}}},
}

// checkAttributes are the attributes of a check block.
var checkAttributes = []string{
	"type", "name", "probe", "args", "command", "interval", "timeout", "ttl",
	"http", "protocol", "tls_skip_verify", "notes", "enabled",
	"success_before_passing", "failures_before_critical",
}

// checkSchema is a check (or an override of one).
var checkSchema = &hcl2.BodySchema{Attributes: attributeSchemas(checkAttributes)}

func attributeSchemas(names []string) []hcl2.AttributeSchema {
	out := make([]hcl2.AttributeSchema, len(names))
	for i, n := range names {
		out[i] = hcl2.AttributeSchema{Name: n}
	}
	return out
}
