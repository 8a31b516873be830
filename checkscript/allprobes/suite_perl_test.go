package allprobes

// The monitoring-plugins v2.3.3 .t files themselves, run by Perl with their
// NPTest.pm, against Debian's plugins and against ours, in the plugin
// sandbox: the count TestPluginSuite's translation stands for. It needs
// the project's source (CARBONIO_HEALTH_PLUGIN_SUITE=<a checkout of tag
// v2.3.3>), which make test does not fetch, so it runs only when given it:
//
//	git clone -b v2.3.3 https://github.com/monitoring-plugins/monitoring-plugins /tmp/mp
//	CARBONIO_HEALTH_PLUGIN_SUITE=/tmp/mp go test -run TestPluginSuitePerl -v ./checkscript/allprobes

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/zextras/carbonio-health/checkscript/plugintest"
)

// envMain makes the test binary answer as `carbonio-health check`: the
// wrappers the .t files run as ./check_disk exec it so.
const envMain = "CARBONIO_HEALTH_TEST_CHECK_MAIN"

func TestMain(m *testing.M) {
	if os.Getenv(envMain) == "1" {
		os.Exit(Registry.Main(context.Background(), os.Args[1:], os.Stdout))
	}
	os.Exit(m.Run())
}

// tapLine is one TAP result: "ok 3 - name", "not ok 4 - name # TODO why".
var tapLine = regexp.MustCompile(`^(not )?ok (\d+)(.*)$`)

func TestPluginSuitePerl(t *testing.T) {
	src := os.Getenv("CARBONIO_HEALTH_PLUGIN_SUITE")
	if src == "" {
		t.Skip("CARBONIO_HEALTH_PLUGIN_SUITE (a monitoring-plugins checkout at v2.3.3) is not set")
	}
	env := plugintest.Sandbox(t)
	if env == nil {
		return
	}
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	plugins := map[string]string{"check_disk": "disk", "check_load": "load", "check_users": "users",
		"check_tcp": "tcp", "check_ping": "ping", "check_dns": "dns"}
	total := map[string]int{}
	for _, who := range []string{"debian", "ours"} {
		work := filepath.Join(env.Dir, "suite-"+who)
		dir := filepath.Join(work, "plugins")
		if err := os.MkdirAll(filepath.Join(dir, "t"), 0o755); err != nil {
			t.Fatal(err)
		}
		// check_ping.t reads ../config.h: Debian's ping has -w and takes -c first.
		if err := os.WriteFile(filepath.Join(work, "config.h"), []byte("#define PING_HAS_TIMEOUT 1\n#define PING_PACKETS_FIRST 1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		for plugin, probe := range plugins {
			script := fmt.Sprintf("#!/bin/sh\nexec %s \"$@\"\n", plugintest.Plugin(t, plugin))
			if who == "ours" {
				script = fmt.Sprintf("#!/bin/sh\n%s=1 exec %s %s \"$@\"\n", envMain, self, probe)
			}
			if err := os.WriteFile(filepath.Join(dir, plugin), []byte(script), 0o755); err != nil {
				t.Fatal(err)
			}
			data, err := os.ReadFile(filepath.Join(src, "plugins", "t", plugin+".t"))
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "t", plugin+".t"), data, 0o644); err != nil {
				t.Fatal(err)
			}
		}
		for _, plugin := range []string{"check_disk", "check_load", "check_users", "check_tcp", "check_ping", "check_dns"} {
			pass, fail, todo, planned := runTAP(t, src, dir, plugin, env)
			t.Logf("%s %s.t: %d passed, %d failed (+%d TODO), %d planned", who, plugin, pass, fail, todo, planned)
			total[who] += pass
			total[who+" planned"] += planned - todo
		}
	}
	t.Logf("the six .t files run by Perl: Debian's plugins pass %d of %d assertions that are not TODO, ours %d of %d",
		total["debian"], total["debian planned"], total["ours"], total["ours planned"])
	if total["ours"] < 145 {
		t.Errorf("ours pass %d, want at least 145", total["ours"])
	}
}

// runTAP runs one .t with Perl in dir and counts its TAP lines.
func runTAP(t *testing.T, src, dir, plugin string, env *plugintest.Env) (pass, fail, todo, planned int) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, "perl", "-I"+src, "-I"+filepath.Join(src, "plugins"), "t/"+plugin+".t")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "NPTEST_ACCEPTDEFAULT=1", "NPTEST_CACHE="+filepath.Join(dir, "NPTest.cache"),
		"NP_MOUNTPOINT_VALID="+env.Mount1, "NP_MOUNTPOINT2_VALID="+env.Mount2, "NP_DNS_SERVER=127.0.0.1",
		"LC_ALL=C", "TZ=UTC")
	out, _ := cmd.CombinedOutput()
	for _, line := range strings.Split(string(out), "\n") {
		if m := regexp.MustCompile(`^1\.\.(\d+)`).FindStringSubmatch(line); m != nil {
			fmt.Sscan(m[1], &planned)
		}
		m := tapLine.FindStringSubmatch(line)
		switch {
		case m == nil:
			continue
		case strings.Contains(m[3], "# TODO"):
			todo++
		case m[1] == "":
			pass++
		default:
			fail++
			t.Logf("  %s: %s", plugin, line)
		}
	}
	if pass+fail+todo != planned {
		t.Logf("  %s.t ran %d of %d planned tests:\n%s", plugin, pass+fail+todo, planned, out)
	}
	return pass, fail, todo, planned
}
