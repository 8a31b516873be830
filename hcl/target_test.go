package hcl

import (
	"slices"
	"strings"
	"testing"
	"time"
)

// targets is a small catalog with role targets and feature units.
const targets = `
feature "antivirus" {
  units = ["carbonio-antivirus.service", "carbonio-freshclam.service"]
}
feature "dkim" {
  units = ["carbonio-opendkim.service"]
}
role "mta" {
  target = "carbonio-mta.target"
}
role "proxy" {
  target = "carbonio-proxy.target"
}
role "all" {}
`

func loadTargets(node string) (*Plan, error) {
	return LoadSources(Options{NoBuiltin: true}, []Source{{Name: "targets.hcl", Src: []byte(targets)}, {Name: "node.hcl", Src: []byte(node)}})
}

func TestTargetCheck(t *testing.T) {
	plan, err := loadTargets("node {\n  roles = [\"mta\"]\n  features = [\"dkim\"]\n}\n" +
		"override \"mta\" \"units\" {\n  check \"target\" { interval = \"1m\" }\n}\n")
	if err != nil {
		t.Fatal(err)
	}
	if want := []Target{{Role: "mta", Unit: "carbonio-mta.target"}}; !slices.Equal(plan.Targets, want) {
		t.Errorf("targets %v, want %v (the proxy role is not enabled)", plan.Targets, want)
	}
	wantX := []ExcludedUnit{{"carbonio-antivirus.service", "antivirus"}, {"carbonio-freshclam.service", "antivirus"}}
	if !slices.Equal(plan.ExcludedUnits, wantX) {
		t.Errorf("excluded %v, want %v", plan.ExcludedUnits, wantX)
	}
	if len(plan.Services) != 1 {
		t.Fatalf("services %+v", plan.Services)
	}
	s := plan.Services[0]
	c := s.Checks[0]
	if s.ID != "carbonio-health:mta:units" || s.Name != "carbonio-mta-units" || s.Description != "systemd units of carbonio-mta.target" ||
		!slices.Equal(s.Tags, []string{"mta", "systemd"}) {
		t.Errorf("service %+v", s)
	}
	wantArgs := "-u carbonio-mta.target -x carbonio-antivirus.service -x carbonio-freshclam.service -t 10"
	if c.ID != "carbonio-health:mta:units:target" || c.Kind != KindScript || c.Probe != "systemd" ||
		strings.Join(c.Args, " ") != wantArgs || c.Interval != time.Minute || !strings.Contains(c.Notes, "carbonio-mta.target") {
		t.Errorf("check %+v, want args %q, interval 1m from the override", c, wantArgs)
	}
	if !strings.HasPrefix(s.DeclRange.String(), "targets.hcl:9,3") {
		t.Errorf("declared at %s, want the target attribute", s.DeclRange)
	}
}

func TestTargetDiagnostics(t *testing.T) {
	tests := []struct {
		name, node string
		want       []string
	}{
		{"not a target", "role \"x\" {\n  target = \"carbonio-x.service\"\n}\n",
			[]string{"node.hcl:2:12", "Invalid target", `"carbonio-x.service" must name a systemd target`}},
		{"not a string", "role \"x\" {\n  target = [\"a.target\"]\n}\n",
			[]string{"node.hcl:2:12", "string required"}},
		{"target and a units service", "role \"x\" {\n  target = \"x.target\"\n  service \"units\" {}\n}\n",
			[]string{"node.hcl:3:3", `Duplicate service "x.units"`, "already declared at node.hcl:2:3"}},
		{"feature units not a list", "feature \"f\" {\n  units = \"a.service\"\n}\n",
			[]string{"node.hcl:2:12", "list of string required"}},
		{"bad unit name in a feature", "feature \"f\" {\n  units = [\"a b.service\"]\n}\nnode {\n  roles = [\"mta\"]\n}\n",
			[]string{"Invalid probe arguments", `invalid character ' '`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := loadTargets(tt.node)
			if err == nil {
				t.Fatal("loaded without error")
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error does not contain %q:\n%s", w, err)
				}
			}
		})
	}
}
