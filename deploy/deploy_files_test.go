package deploy_test

import (
	"bufio"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
)

// unit is a parsed systemd unit: section → key → values (keys repeat).
type unit map[string]map[string][]string

// parseUnit reads a systemd unit file; it fails on lines that are neither
// comments, sections nor key=value.
func parseUnit(t *testing.T, path string) unit {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	u := unit{}
	section := ""
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";"):
		case strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]"):
			section = strings.Trim(line, "[]")
			u[section] = map[string][]string{}
		case strings.Contains(line, "=") && section != "":
			k, v, _ := strings.Cut(line, "=")
			u[section][strings.TrimSpace(k)] = append(u[section][strings.TrimSpace(k)], strings.TrimSpace(v))
		default:
			t.Fatalf("%s:%d: not a unit line: %q", path, n, line)
		}
	}
	return u
}

func TestSystemdUnit(t *testing.T) {
	u := parseUnit(t, "systemd/carbonio-health.service")
	want := []struct{ section, key, value string }{
		{"Service", "Restart", "on-failure"},
		{"Service", "ExecReload", "/bin/kill -HUP $MAINPID"},
		{"Service", "User", "carbonio-health"},
		{"Service", "NoNewPrivileges", "yes"},
		{"Service", "ProtectSystem", "strict"},
		{"Service", "ProtectHome", "yes"},
		{"Service", "PrivateTmp", "yes"},
		{"Service", "CapabilityBoundingSet", "CAP_NET_RAW"},
		{"Service", "AmbientCapabilities", "CAP_NET_RAW"},
		{"Service", "AmbientCapabilities", "CAP_DAC_READ_SEARCH"},
		{"Service", "CapabilityBoundingSet", "CAP_DAC_READ_SEARCH"},
		{"Service", "StateDirectory", "carbonio-health/fragment"},
		{"Service", "RestartPreventExitStatus", "78"}, // run's exit on a declaration that does not load
	}
	for _, w := range want {
		if got := strings.Join(u[w.section][w.key], " "); !strings.Contains(got, w.value) {
			t.Errorf("[%s] %s = %q, want it to contain %q", w.section, w.key, got, w.value)
		}
	}
	// Like Carbonio's sidecar units: after the agent, part of and wanted by
	// its target (whole unit names, not substrings of another unit's).
	for _, w := range []struct{ section, key, unit string }{
		{"Unit", "After", "service-discover.service"},
		{"Unit", "PartOf", "service-discover.target"},
		{"Install", "WantedBy", "service-discover.target"},
	} {
		if got := strings.Fields(strings.Join(u[w.section][w.key], " ")); !slices.Contains(got, w.unit) {
			t.Errorf("[%s] %s = %v, want it to name %s", w.section, w.key, got, w.unit)
		}
	}
	exec := strings.Fields(strings.Join(u["Service"]["ExecStart"], " "))
	if len(exec) < 2 || exec[0] != "/usr/bin/carbonio-health" || exec[1] != "run" {
		t.Fatalf("ExecStart %v", exec)
	}
	checkFlags(t, "ExecStart", exec[2:], flagsOf(t, "run.go", "declaration.go", "consul_flags.go"))
	// It may write only its state folder, which is where it stages the
	// agent config fragment: never the agent's config dir.
	if got := u["Service"]["ReadWritePaths"]; len(got) > 0 {
		t.Errorf("ReadWritePaths = %v: the daemon writes only its StateDirectory", got)
	}
	if got, want := flagValue(exec, "-fragment-stage"), "/var/lib/"+strings.Join(u["Service"]["StateDirectory"], ""); got != want {
		t.Errorf("-fragment-stage %q, want the StateDirectory %q", got, want)
	}
}

// flagValue returns the value after flag in args ("" when absent).
func flagValue(args []string, flag string) string {
	for i, a := range args {
		if a == flag && i+1 < len(args) {
			return args[i+1]
		}
	}
	return ""
}

// TestFragmentUnits: the path unit watches the file the daemon stages, the
// installer reads that folder and writes the agent dir the daemon reads,
// with flags that exist, as root confined to that dir and no network.
func TestFragmentUnits(t *testing.T) {
	daemon := strings.Fields(strings.Join(parseUnit(t, "systemd/carbonio-health.service")["Service"]["ExecStart"], " "))
	stage, agentDir := flagValue(daemon, "-fragment-stage"), flagValue(daemon, "-agent-config-dir")
	path := parseUnit(t, "systemd/carbonio-health-fragment.path")
	if got, want := strings.Join(path["Path"]["PathChanged"], " "), stage+"/carbonio-health.json"; got != want {
		t.Errorf("PathChanged=%s, want the staged file %s", got, want)
	}
	if got := strings.Join(path["Path"]["Unit"], " "); got != "carbonio-health-fragment.service" {
		t.Errorf("Unit=%s", got)
	}
	u := parseUnit(t, "systemd/carbonio-health-fragment.service")
	exec := strings.Fields(strings.Join(u["Service"]["ExecStart"], " "))
	if len(exec) < 2 || exec[0] != "/usr/bin/carbonio-health" || exec[1] != "install-fragment" {
		t.Fatalf("ExecStart %v", exec)
	}
	checkFlags(t, "ExecStart", exec[2:], flagsOf(t, "install_fragment.go", "declaration.go"))
	if flagValue(exec, "-stage") != stage || flagValue(exec, "-agent-config-dir") != agentDir {
		t.Errorf("installer %v: want -stage %s -agent-config-dir %s, as the daemon", exec, stage, agentDir)
	}
	for _, w := range []struct{ key, value string }{
		{"Type", "oneshot"}, {"ReadWritePaths", "-" + agentDir}, {"ProtectSystem", "strict"},
		{"PrivateNetwork", "yes"}, {"CapabilityBoundingSet", "CAP_DAC_OVERRIDE"}, {"NoNewPrivileges", "yes"},
	} {
		if got := strings.Join(u["Service"][w.key], " "); got != w.value {
			t.Errorf("installer %s=%q, want %q", w.key, got, w.value)
		}
	}
}

// checkFlags fails for any -flag in args the command does not declare.
func checkFlags(t *testing.T, where string, args []string, known map[string]bool) {
	t.Helper()
	for _, a := range args {
		if strings.HasPrefix(a, "-") && !known[strings.TrimLeft(a, "-")] {
			t.Errorf("%s: flag %s does not exist (known: %v)", where, a, known)
		}
	}
}

func TestNagiosObjects(t *testing.T) {
	src, err := os.ReadFile("nagios/carbonio-health.cfg")
	if err != nil {
		t.Fatal(err)
	}
	statusFlags := flagsOf(t, "status.go", "consul_flags.go")
	defs := regexp.MustCompile(`(?s)define\s+(\w+)\s*\{(.*?)\}`).FindAllStringSubmatch(string(src), -1)
	commands := map[string]bool{}
	for _, d := range defs {
		attrs := map[string]string{}
		for _, line := range strings.Split(d[2], "\n") {
			if f := strings.Fields(line); len(f) >= 2 && !strings.HasPrefix(f[0], "#") {
				attrs[f[0]] = strings.Join(f[1:], " ")
			}
		}
		switch d[1] {
		case "command":
			line := strings.Fields(attrs["command_line"])
			if attrs["command_name"] == "" || len(line) < 2 || line[0] != "/usr/bin/carbonio-health" || line[1] != "status" {
				t.Errorf("command %q: command_line %q", attrs["command_name"], attrs["command_line"])
				continue
			}
			checkFlags(t, attrs["command_name"], line[2:], statusFlags)
			commands[attrs["command_name"]] = true
		case "service":
			if cmd, _, _ := strings.Cut(attrs["check_command"], "!"); cmd != "" && !commands[cmd] {
				t.Errorf("service %q uses undefined command %q", attrs["service_description"], cmd)
			}
		default:
			t.Errorf("unexpected object type %q", d[1])
		}
	}
	if len(commands) != 3 {
		t.Errorf("commands %v, want node, role and service", commands)
	}
}

func TestZabbixFiles(t *testing.T) {
	conf, err := os.ReadFile("zabbix/carbonio-health.conf")
	if err != nil {
		t.Fatal(err)
	}
	statusFlags := flagsOf(t, "status.go", "consul_flags.go")
	keys := map[string]bool{}
	re := regexp.MustCompile(`^UserParameter=([a-z.]+)(\[\*\])?,(/usr/bin/carbonio-health status .*)$`)
	for _, line := range strings.Split(string(conf), "\n") {
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		m := re.FindStringSubmatch(line)
		if m == nil {
			t.Errorf("not a carbonio-health UserParameter: %q", line)
			continue
		}
		keys[m[1]] = true
		checkFlags(t, m[1], strings.Fields(m[3])[2:], statusFlags)
	}
	tmpl, err := os.ReadFile("zabbix/template_carbonio_health.yaml")
	if err != nil {
		t.Fatal(err)
	}
	// Every agent item key of the template is a UserParameter; every LLD
	// macro is one status -format zabbix-discovery emits.
	for _, m := range regexp.MustCompile(`(?m)^\s+key: '?([a-z.]+)`).FindAllStringSubmatch(string(tmpl), -1) {
		if !keys[m[1]] && !strings.HasSuffix(m[1], ".code") {
			t.Errorf("template key %s has no UserParameter", m[1])
		}
	}
	report, err := os.ReadFile("../cmd/carbonio-health/status_report.go")
	if err != nil {
		t.Fatal(err)
	}
	for _, m := range regexp.MustCompile(`\{#[A-Z]+\}`).FindAllString(string(tmpl), -1) {
		if !strings.Contains(string(report), `"`+m+`"`) {
			t.Errorf("template macro %s is not in the discovery output", m)
		}
	}
	for _, want := range []string{"zabbix_export:", "discovery_rules:", "item_prototypes:", "trigger_prototypes:", "$.code"} {
		if !strings.Contains(string(tmpl), want) {
			t.Errorf("template lacks %q", want)
		}
	}
	if strings.Contains(string(tmpl), "\t") {
		t.Error("YAML must not contain tabs")
	}
}
