package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// icinga2Main loads what Debian's icinga2.conf loads for checks (the
// constants, the Icinga Template Library with the plugins' commands), the
// shipped CheckCommands and deploy/README.md's objects.
const icinga2Main = `include "/etc/icinga2/constants.conf"
include <itl>
include <plugins>
include "carbonio-health.conf"
include "readme-objects.conf"
`

// icinga2Run makes a validated configuration run: Icinga's checker, and a
// perfdata writer whose files (one per second) say each check's state and
// output.
const icinga2Run = `object CheckerComponent "checker" { }
object PerfdataWriter "perfdata" {
  service_perfdata_path = "@DIR@/perfdata/service"
  service_temp_path = "@DIR@/perfdata/service.tmp"
  host_perfdata_path = "@DIR@/perfdata/host"
  host_temp_path = "@DIR@/perfdata/host.tmp"
  service_format_template = "SERVICEDESC::$service.name$\tSERVICESTATE::$service.state$\tSERVICEOUTPUT::$service.output$"
  rotation_interval = 1s
}
`

// TestIcinga2 validates the shipped CheckCommands and deploy/README.md's Icinga 2
// objects with Debian's `icinga2 daemon -C`, then runs the daemon on them
// for a few seconds against a dev agent: `status` answers CRITICAL for the
// node and OK for its passing role, and `check` runs its probe. Every path
// of the daemon is in a temporary folder.
func TestIcinga2(t *testing.T) {
	t.Parallel() // each waits on its own tool and dev agent
	icinga2 := tool(t, "icinga2")
	agent := devNode(t, map[string]string{"mta:smtp": api.HealthPassing, "proxy:http": api.HealthCritical})

	dir := t.TempDir()
	token := filepath.Join(dir, "status.token") // no ACLs on the dev agent: empty
	writeFile(t, token, "")
	shipped := shippedFile(t, "icinga2/carbonio-health.conf")
	writeFile(t, filepath.Join(dir, "carbonio-health.conf"), shipped)
	// Every argument of the status command is a flag of `status`, set or not.
	status, _, _ := strings.Cut(shipped, `object CheckCommand "carbonio-health-check"`)
	var flags []string
	for _, m := range regexp.MustCompile(`"(-[a-z-]+)" = \{`).FindAllStringSubmatch(status, -1) {
		flags = append(flags, m[1])
	}
	if len(flags) < 7 {
		t.Errorf("carbonio-health-status arguments %v", flags)
	}
	checkFlags(t, "carbonio-health-status", flags, flagsOf(t, "status.go", "consul_flags.go"))
	// deploy/README.md's objects on the dev agent; each checks every second
	// instead of Icinga's default 5 minutes.
	objects := strings.NewReplacer("agent-mail-1-example-com", agent.NodeName, "consul.example.com:8500", agent.Addr,
		"/etc/carbonio-health/status.token", token,
		`  check_command = "carbonio-health-`, "  check_interval = 1s\n  check_command = \"carbonio-health-",
	).Replace(docBlock(t, "icinga2-objects"))
	writeFile(t, filepath.Join(dir, "readme-objects.conf"), objects)
	writeFile(t, filepath.Join(dir, "icinga2.conf"), icinga2Main)
	args := []string{"daemon", "-C", "-c", filepath.Join(dir, "icinga2.conf"), "-DConfigDir=" + dir,
		"-DRunAsUser=root", "-DRunAsGroup=root"}
	for _, c := range []string{"DataDir", "CacheDir", "LogDir", "SpoolDir", "InitRunDir"} {
		p := filepath.Join(dir, c)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-D"+c+"="+p)
	}
	out, err := exec.Command(icinga2, args...).CombinedOutput()
	t.Logf("icinga2 daemon -C:\n%s", out)
	if err != nil || !strings.Contains(string(out), "Finished validating the configuration") {
		t.Fatalf("icinga2 daemon -C: %v", err)
	}
	if !strings.Contains(string(out), "Instantiated 3 Services") {
		t.Errorf("want deploy/README.md's 3 services instantiated")
	}

	if err := os.Mkdir(filepath.Join(dir, "perfdata"), 0o755); err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "run.conf"), strings.ReplaceAll(icinga2Run, "@DIR@", dir))
	writeFile(t, filepath.Join(dir, "icinga2.conf"), icinga2Main+"include \"run.conf\"\n")
	results := runIcinga2(t, icinga2, args[2:], filepath.Join(dir, "perfdata"), 3)
	for svc, want := range map[string]string{"carbonio-health": "CRITICAL", "carbonio-mta": "OK"} {
		if r := results[svc]; r[0] != want || !strings.HasPrefix(r[1], "HEALTH ") {
			t.Errorf("%s: %v, want %s", svc, r, want)
		}
	}
	if r := results["carbonio-disk-opt"]; r[0] == "UNKNOWN" || !strings.HasPrefix(r[1], "DISK ") {
		t.Errorf("carbonio-disk-opt: %v, want the disk probe's answer", r)
	}
}

// runIcinga2 runs `icinga2 daemon` with args until the perfdata writer has
// reported n services, and returns service → [state, output].
func runIcinga2(t *testing.T, icinga2 string, args []string, perfdata string, n int) map[string][2]string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, icinga2, append([]string{"daemon"}, args...)...)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	// icinga2 forks workers that outlive a signal to the first process:
	// stop the whole process group.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	cmd.Cancel = func() error { return syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL) }
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	results := map[string][2]string{}
	for deadline := time.Now().Add(90 * time.Second); len(results) < n && time.Now().Before(deadline); time.Sleep(500 * time.Millisecond) {
		files, _ := filepath.Glob(filepath.Join(perfdata, "service.[0-9]*"))
		for _, f := range files {
			b, _ := os.ReadFile(f)
			for _, line := range strings.Split(string(b), "\n") {
				f := map[string]string{}
				for _, field := range strings.Split(line, "\t") {
					if k, v, ok := strings.Cut(field, "::"); ok {
						f[k] = v
					}
				}
				if f["SERVICEDESC"] != "" {
					results[f["SERVICEDESC"]] = [2]string{f["SERVICESTATE"], f["SERVICEOUTPUT"]}
				}
			}
		}
	}
	for svc, r := range results {
		t.Logf("%s: %s: %s", svc, r[0], r[1])
	}
	if len(results) < n {
		t.Errorf("icinga2 reported %d of %d services:\n%s", len(results), n, out.String())
	}
	return results
}
