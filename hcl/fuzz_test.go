package hcl

import "testing"

// FuzzLoad feeds arbitrary node files to the loader on top of a small
// catalog: whatever the input, Load must answer a plan or diagnostics and
// never panic. The seed corpus runs in every `go test`.
func FuzzLoad(f *testing.F) {
	seeds := []string{
		"",
		`node { roles = ["mta"] features = ["antivirus"] }`,
		"node {\n  roles = [\"mta\"]\n  features = [\"antivirus\"]\n}\n",
		`override "mta" "smtp" { port = 70000 }`,
		`override "mta" "clamav" { check "socket" { args = { p = ["/a", "/b"], C = true, t = 3 } } }`,
		`override "mta" "clamav" { check "socket" { args = { p = { x = 1 } } } }`,
		`override "mta" "clamav" { check "socket" { args = null } }`,
		`override "mta" "clamav" { check "socket" { args = "p" } }`,
		`role "x" { service "a" { port = 1.5 check "tcp" { interval = "-1s" } } }`,
		`role "x" { service "a" { meta = { "bad key" = "v" } tags = [1, 2] } }`,
		`node { roles = "mta" }`,
		`node { roles = [for r in ["mta"] : r] }`,
		`role "x" { service "a" { port = var.port } }`,
		"role \"x\" {\n  service \"a\" {\n",
		`override "mta" "smtp" { check "tcp" { type = "ttl" ttl = "1s" } }`,
		"\x00\xff{{{",
	}
	for _, s := range seeds {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, node string) {
		plan, err := LoadSources(Options{NoBuiltin: true, PathExists: func(string) bool { return true }},
			[]Source{{Name: "base.hcl", Src: []byte(base)}, {Name: "node.hcl", Src: []byte(node)}})
		if (plan == nil) == (err == nil) {
			t.Fatalf("want exactly one of plan and error, got %v and %v", plan, err)
		}
		if err != nil {
			_ = err.Error()
		}
	})
}
