package hcl

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

// everything enables every role and feature of the built-in catalog.
const everything = `
node {
  roles    = ["mta", "proxy", "mailstore", "directory", "replica"]
  features = ["antivirus", "dkim", "active-replica"]
}
`

func loadBuiltin(t *testing.T, node string, exists func(string) bool) *Plan {
	t.Helper()
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "node.hcl"), []byte(node), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := Load(Options{ConfigDirs: []string{dir}, PathExists: exists})
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

// TestBuiltinCatalogCoversTheDocument checks every endpoint of the Carbonio
// monitoring document is registered when every role and feature is on.
func TestBuiltinCatalogCoversTheDocument(t *testing.T) {
	plan := loadBuiltin(t, everything, func(string) bool { return true })
	ports := map[int]string{}
	probes := map[string][]string{} // probe → the args of every check using it
	kinds := map[CheckKind]int{}
	for _, s := range plan.Services {
		if s.Port != 0 {
			ports[s.Port] = s.Name
		}
		for _, c := range s.Checks {
			kinds[c.Kind]++
			if c.Probe != "" {
				probes[c.Probe] = append(probes[c.Probe], strings.Join(c.Args, " "))
			}
		}
	}
	wantPorts := []int{
		25, 465, 587, 7026, 3310, 10024, 8465, // MTA
		143, 993, 110, 995, 80, 443, // Proxy
		7025, 7110, 7143, 7071, 8730, 8736, 7995, 7993, 8080, // Mailstore
		5432, 389, 8300, 8500, // Mesh and Directory
		9308, 7072, 2181, 8008, // Event streaming / HA
	}
	for _, p := range wantPorts {
		if _, ok := ports[p]; !ok {
			t.Errorf("port %d is not registered", p)
		}
	}
	if len(ports) != len(wantPorts) {
		t.Errorf("%d ports registered, the document lists %d: %v", len(ports), len(wantPorts), ports)
	}
	wantArgs := map[string][]string{
		"socket": {"-p /run/carbonio/clamd.socket", "-p /run/carbonio/mysql.sock"},
		"disk": {"/opt ", "/var/lib ", "/var/log ", "/opt/zextras/store ", "/opt/zextras/backup ",
			"/opt/zextras/incoming ", "/opt/zextras/cache "},
		"users": {"-c "},
		"load":  {"-r"},
		"ping":  {"--gateway -p 5 --peers"},
		"dns":   {"-H "},
		"systemd": {"-u service-discover.service ", "-u carbonio-mta.target ", "-u carbonio-proxy.target ",
			"-u carbonio-appserver.target ", "-u carbonio-directory-server.target ", "-u carbonio-kafka.service ",
			"-u patroni.service "},
	}
	for probe, wants := range wantArgs {
		all := strings.Join(probes[probe], "\n") + " "
		for _, w := range wants {
			if !strings.Contains(all, w) {
				t.Errorf("no %s check with %q; have:\n%s", probe, w, all)
			}
		}
	}
	for _, k := range []CheckKind{KindTCP, KindHTTP, KindScript, KindTTL} {
		if kinds[k] == 0 {
			t.Errorf("no %s check in the catalog", k)
		}
	}
	if len(plan.Skipped) != 0 {
		t.Errorf("skipped with everything enabled: %+v", plan.Skipped)
	}
}

// TestBuiltinCatalogConditions checks what a node without roles or
// features gets, and that each conditional endpoint says why it is left out.
func TestBuiltinCatalogConditions(t *testing.T) {
	plan := loadBuiltin(t, `node { roles = ["mta", "replica"] }`, func(p string) bool { return p != "/opt/zextras/cache" })
	reasons := map[string]string{}
	for _, s := range plan.Skipped {
		reasons[s.Name] = s.Reason
	}
	want := map[string]string{
		"carbonio-mta-clamav":     `feature "antivirus" is not enabled on this node`,
		"carbonio-mta-opendkim":   `feature "dkim" is not enabled on this node`,
		"carbonio-replica-kafka":  `feature "active-replica" is not enabled on this node`,
		"carbonio-all-disk-cache": "/opt/zextras/cache is not present on this node",
		"carbonio-proxy-imap":     `role "proxy" is not enabled on this node`,
	}
	for name, reason := range want {
		if reasons[name] != reason {
			t.Errorf("%s: reason %q, want %q", name, reasons[name], reason)
		}
	}
	for _, s := range plan.Services {
		if s.Role != AllRole && s.Role != "mta" {
			t.Errorf("service %s of role %s registered", s.Name, s.Role)
		}
	}
}

// TestBuiltinCatalogNames checks the Carbonio-style names and tags.
func TestBuiltinCatalogNames(t *testing.T) {
	plan := loadBuiltin(t, everything, func(string) bool { return true })
	for _, s := range plan.Services {
		if !strings.HasPrefix(s.Name, "carbonio-"+s.Role+"-") {
			t.Errorf("service %s does not follow carbonio-<role>-<key>", s.Name)
		}
		if s.Tags[0] != s.Role {
			t.Errorf("service %s: first tag %q is not its role", s.Name, s.Tags[0])
		}
		if len(s.Checks) == 0 {
			t.Errorf("service %s has no check", s.Name)
		}
	}
}

// TestBuiltinCatalogTargets checks each role's systemd target, that every
// systemd check names a target or a unit outside any target, and that a
// node without a feature leaves that feature's units out and says so.
func TestBuiltinCatalogTargets(t *testing.T) {
	wantTargets := []Target{
		{Role: "directory", Unit: "carbonio-directory-server.target"},
		{Role: "mailstore", Unit: "carbonio-appserver.target"},
		{Role: "mta", Unit: "carbonio-mta.target"},
		{Role: "proxy", Unit: "carbonio-proxy.target"},
	}
	plan := loadBuiltin(t, everything, func(string) bool { return true })
	if !slices.Equal(plan.Targets, wantTargets) || len(plan.ExcludedUnits) != 0 {
		t.Errorf("targets %v, excluded %v", plan.Targets, plan.ExcludedUnits)
	}
	var units []string
	for _, s := range plan.Services {
		for _, c := range s.Checks {
			if c.Probe == "systemd" {
				units = append(units, c.Args[1])
			}
		}
	}
	slices.Sort(units)
	want := []string{"carbonio-appserver.target", "carbonio-directory-server.target", "carbonio-kafka.service",
		"carbonio-mta.target", "carbonio-proxy.target", "patroni.service", "service-discover.service"}
	if !slices.Equal(units, want) {
		t.Errorf("systemd checks on %v, want %v", units, want)
	}

	plan = loadBuiltin(t, `node { roles = ["mta", "proxy"] }`, func(string) bool { return true })
	wantExcluded := []ExcludedUnit{
		{Unit: "carbonio-antivirus.service", Feature: "antivirus"},
		{Unit: "carbonio-freshclam.service", Feature: "antivirus"},
		{Unit: "carbonio-opendkim.service", Feature: "dkim"},
	}
	if !slices.Equal(plan.ExcludedUnits, wantExcluded) {
		t.Errorf("excluded %v, want %v", plan.ExcludedUnits, wantExcluded)
	}
	if !slices.Equal(plan.Targets, []Target{wantTargets[2], wantTargets[3]}) {
		t.Errorf("targets %v", plan.Targets)
	}
	for _, s := range plan.Services {
		if s.Key != TargetServiceKey || s.Role == AllRole {
			continue
		}
		args := strings.Join(s.Checks[0].Args, " ")
		wantArgs := "-u carbonio-" + s.Role + ".target -x carbonio-antivirus.service -x carbonio-freshclam.service -x carbonio-opendkim.service -t 10"
		if args != wantArgs || s.Checks[0].Key != TargetCheckKey || s.Checks[0].Kind != KindScript {
			t.Errorf("%s: %s %s %q, want %q", s.Name, s.Checks[0].Key, s.Checks[0].Kind, args, wantArgs)
		}
	}
}

// TestBuiltinCatalogNotes checks every check of the catalog carries notes
// for the Consul UI: one or two sentences, what it watches and what a
// failure means.
func TestBuiltinCatalogNotes(t *testing.T) {
	plan := loadBuiltin(t, everything, func(string) bool { return true })
	for _, s := range plan.Services {
		for _, c := range s.Checks {
			sentences := strings.Count(c.Notes, ". ") + 1
			if c.Notes == "" || !strings.HasSuffix(c.Notes, ".") || sentences > 2 {
				t.Errorf("%s: notes %q, want one or two sentences", c.ID, c.Notes)
			}
		}
	}
}
