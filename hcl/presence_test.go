package hcl

import (
	"slices"
	"strings"
	"testing"
)

// TestBuiltinCatalogDiskFolders: the store is mandatory on a mailstore and
// checked elsewhere only where it exists; backup, incoming and cache are
// checked wherever they exist.
func TestBuiltinCatalogDiskFolders(t *testing.T) {
	tests := []struct {
		name    string
		node    string
		present []string
		want    map[string]string // service → its IfPresent path ("" = unconditional)
		skipped []string
	}{
		{"mta without folders", `node { roles = ["mta"] }`, nil, map[string]string{"carbonio-all-disk-opt": ""},
			[]string{"carbonio-all-disk-store", "carbonio-all-disk-backup", "carbonio-all-disk-incoming", "carbonio-all-disk-cache"}},
		{"mta that has a store", `node { roles = ["mta"] }`, []string{"/opt/zextras/store"},
			map[string]string{"carbonio-all-disk-store": "/opt/zextras/store"}, []string{"carbonio-all-disk-backup"}},
		{"mailstore without its store", `node { roles = ["mailstore"] }`, nil, map[string]string{"carbonio-all-disk-store": ""},
			[]string{"carbonio-all-disk-backup"}},
		{"mailstore with backups", `node { roles = ["mailstore"] }`, []string{"/opt/zextras/backup"},
			map[string]string{"carbonio-all-disk-store": "", "carbonio-all-disk-backup": "/opt/zextras/backup"}, nil},
		{"mailstore that requires backups", `node { roles = ["mailstore"] }
override "all" "disk-backup" { required_by = ["mailstore"] }`, nil,
			map[string]string{"carbonio-all-disk-store": "", "carbonio-all-disk-backup": ""}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			exists := func(p string) bool { return slices.Contains(tt.present, p) }
			plan := loadBuiltin(t, tt.node, exists)
			got := map[string]Service{}
			for _, s := range plan.Services {
				got[s.Name] = s
			}
			for name, path := range tt.want {
				s, ok := got[name]
				if !ok {
					t.Errorf("%s not registered", name)
				} else if s.IfPresent != path {
					t.Errorf("%s: IfPresent %q, want %q", name, s.IfPresent, path)
				}
			}
			for _, name := range tt.skipped {
				if _, ok := got[name]; ok {
					t.Errorf("%s registered, want it left out", name)
				}
			}
		})
	}
}

// TestPlanPresent: a deferred plan keeps every path-conditional service,
// and Present decides them again each time it is called.
func TestPlanPresent(t *testing.T) {
	node := `node { roles = ["mta"] }
role "x" {
  service "store" {
    if_present  = "/srv/store"
    required_by = ["mailstore"]
    check "d" {
      type  = "ttl"
      probe = "disk"
      args  = { p = "/srv/store", used-warning = "80%" }
    }
  }
}
role "mailstore" {}`
	plan, err := LoadSources(Options{NoBuiltin: true, DeferPresence: true},
		[]Source{{Name: "base.hcl", Src: []byte(base)}, {Name: "node.hcl", Src: []byte(node)}})
	if err != nil {
		t.Fatal(err)
	}
	if got := strings.Join(plan.PresencePaths(), " "); got != "/opt/cache" {
		t.Errorf("presence paths = %q (role x is not enabled, role all is)", got)
	}
	ids := func(p *Plan) string {
		var out []string
		for _, s := range p.Services {
			out = append(out, s.ID)
		}
		return strings.Join(out, " ")
	}
	if got := ids(plan); got != "carbonio-health:all:cache carbonio-health:mta:smtp" {
		t.Errorf("deferred services = %s", got)
	}
	absent := plan.Present(func(string) bool { return false })
	if got := ids(absent); got != "carbonio-health:mta:smtp" {
		t.Errorf("services with /opt/cache absent = %s", got)
	}
	var reason string
	for _, s := range absent.Skipped {
		if s.ID == "carbonio-health:all:cache" {
			reason = s.Reason
		}
	}
	if reason != "/opt/cache is not present on this node" {
		t.Errorf("reason = %q", reason)
	}
	again := absent.Present(func(string) bool { return true })
	if ids(again) != ids(absent) {
		t.Errorf("Present brought back a service it had dropped: %s", ids(again))
	}
	if ids(plan.Present(func(string) bool { return true })) != ids(plan) {
		t.Errorf("Present changed a plan whose paths all exist")
	}
}

func TestLoadPresenceDiagnostics(t *testing.T) {
	svc := func(attrs string) string {
		return "role \"x\" {\n  service \"a\" {\n" + attrs + "\n  }\n}\n"
	}
	tests := []struct {
		name  string
		attrs string
		want  []string
	}{
		{"required by an unknown role", "    if_present  = \"/srv\"\n    required_by = [\"mailstor\"]",
			[]string{"node.hcl:4:20", "Unknown role", `No role "mailstor"`}},
		{"required_by without if_present", `    required_by = ["mta"]`,
			[]string{"node.hcl:3:5", "required_by without if_present"}},
		{"relative path", `    if_present = "opt/zextras"`,
			[]string{"node.hcl:3:18", "Relative path", `"opt/zextras"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := loadWith("", svc(tt.attrs))
			wantDiagnostics(t, plan, err, tt.want)
		})
	}
}
