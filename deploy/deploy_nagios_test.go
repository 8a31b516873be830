package deploy_test

import (
	"bufio"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// nagiosMain is a main configuration for Debian's nagios4 that loads what
// Debian's own nagios.cfg loads (the plugins' commands, the sample objects
// with the generic-service template the shipped objects use), the shipped
// objects and deploy/README.md's hosts, and keeps every file in @DIR@. interval_length=1 makes the shipped check_interval of 1 a
// second, so a short run checks every service.
const nagiosMain = `log_file=@DIR@/nagios.log
cfg_dir=/etc/nagios-plugins/config
cfg_file=/etc/nagios4/objects/commands.cfg
cfg_file=/etc/nagios4/objects/contacts.cfg
cfg_file=/etc/nagios4/objects/timeperiods.cfg
cfg_file=/etc/nagios4/objects/templates.cfg
cfg_file=@DIR@/carbonio-health.cfg
cfg_file=@DIR@/readme-hosts.cfg
resource_file=@DIR@/resource.cfg
object_cache_file=@DIR@/objects.cache
precached_object_file=@DIR@/objects.precache
status_file=@DIR@/status.dat
status_update_interval=1
temp_file=@DIR@/nagios.tmp
temp_path=@DIR@
lock_file=@DIR@/nagios.lock
check_result_path=@DIR@/checkresults
state_retention_file=@DIR@/retention.dat
retain_state_information=0
command_file=@DIR@/nagios.cmd
check_external_commands=0
nagios_user=root
nagios_group=root
use_syslog=0
enable_notifications=0
execute_host_checks=0
interval_length=1
max_service_check_spread=1
check_result_reaper_frequency=1
illegal_macro_output_chars=` + "`" + `~$&|'"<>
`

// TestNagios runs Debian's nagios4 on the shipped objects: `nagios4 -v`
// accepts the configuration, and a short real run executes `status` against
// a dev agent and writes the expected states into status.dat.
func TestNagios(t *testing.T) {
	t.Parallel() // each waits on its own tool and dev agent
	nagios := tool(t, "nagios4")
	agent := devNode(t, map[string]string{"mta:smtp": api.HealthCritical, "proxy:http": api.HealthPassing})

	dir := t.TempDir()
	if err := os.Mkdir(filepath.Join(dir, "checkresults"), 0o755); err != nil {
		t.Fatal(err)
	}
	token := filepath.Join(dir, "status.token") // no ACLs on the dev agent: empty
	writeFile(t, token, "")
	writeFile(t, filepath.Join(dir, "carbonio-health.cfg"), shippedFile(t, "nagios/carbonio-health.cfg", "/etc/carbonio-health/status.token", token))
	hosts := strings.ReplaceAll(docBlock(t, "nagios-hosts"), "agent-mail-1-example-com", agent.NodeName)
	writeFile(t, filepath.Join(dir, "readme-hosts.cfg"), hosts)
	writeFile(t, filepath.Join(dir, "resource.cfg"), "$USER10$="+agent.Addr+"\n")
	main := filepath.Join(dir, "nagios.cfg")
	writeFile(t, main, strings.ReplaceAll(nagiosMain, "@DIR@", dir))

	if out := run(t, nagios, "-v", main); !strings.Contains(out, "Total Errors:   0") {
		t.Fatalf("nagios4 -v:\n%s", out)
	}

	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, nagios, main)
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = cmd.Wait() }()
	want := map[string]string{"Carbonio health": "2", "Carbonio MTA": "2", "Carbonio proxy": "0"}
	var got map[string]map[string]string
	consultest.Eventually(t, "nagios4 to check every service", func() bool {
		got = serviceStatus(t, filepath.Join(dir, "status.dat"))
		done := len(got) == len(want)
		for _, s := range got {
			done = done && s["has_been_checked"] == "1"
		}
		return done
	})
	for svc, state := range want {
		s := got[svc]
		t.Logf("%s: state %s: %s", svc, s["current_state"], s["plugin_output"])
		if s["current_state"] != state || s["has_been_checked"] != "1" {
			t.Errorf("%s: state %q (checked %q), want %s; output %q", svc, s["current_state"], s["has_been_checked"], state, s["plugin_output"])
		}
	}
	if t.Failed() {
		log, _ := os.ReadFile(filepath.Join(dir, "nagios.log"))
		t.Logf("nagios4 output:\n%s\nnagios.log:\n%s", out.String(), log)
	}
}

// serviceStatus parses nagios4's status.dat: service description → the
// attributes of its servicestatus block.
func serviceStatus(t *testing.T, path string) map[string]map[string]string {
	t.Helper()
	out := map[string]map[string]string{}
	f, err := os.Open(path)
	if err != nil {
		return out // not written yet
	}
	defer f.Close()
	var block map[string]string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := strings.TrimSpace(sc.Text())
		switch {
		case line == "servicestatus {":
			block = map[string]string{}
		case line == "}" && block != nil:
			out[block["service_description"]] = block
			block = nil
		case block != nil:
			if k, v, ok := strings.Cut(line, "="); ok {
				block[k] = v
			}
		}
	}
	return out
}
