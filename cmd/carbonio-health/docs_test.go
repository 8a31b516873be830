package main

import (
	"bytes"
	"context"
	"flag"
	"maps"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/allprobes"
	"github.com/zextras/carbonio-health/hcl"
)

// consumerTool returns a Debian tool the test runs (make consumers
// installs it); missing, it fails under CARBONIO_HEALTH_INTEGRATION=1 and
// skips otherwise.
func consumerTool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		if os.Getenv("CARBONIO_HEALTH_INTEGRATION") == "1" {
			t.Fatalf("%s is not installed: run `make consumers` (as root)", name)
		}
		t.Skipf("%s is not installed", name)
	}
	return p
}

// TestEveryCommandDocumented: the manual page and -h document exactly the
// commands of the table, and every command but check declares its flags
// with newFlagSet, where the page and the completion read them.
func TestEveryCommandDocumented(t *testing.T) {
	names := append(slices.Sorted(maps.Keys(commands)), "version")
	slices.Sort(names)
	if docs := slices.Sorted(maps.Keys(commandDocs)); !slices.Equal(docs, names) {
		t.Errorf("commandDocs documents %v; the commands are %v", docs, names)
	}
	if order := slices.Sorted(slices.Values(commandOrder)); !slices.Equal(order, names) {
		t.Errorf("commandOrder lists %v; the commands are %v", order, names)
	}
	for _, n := range names {
		if n == "check" || n == "version" {
			continue
		}
		if commandFlags(n) == nil {
			t.Errorf("command %s does not declare its flags with newFlagSet", n)
		}
	}
}

// TestManPages writes the three pages, has man(1) format each with
// --warnings (as lintian does), and checks that the text names every
// command, every flag of each, every probe and its flags, and every block
// and attribute of the language.
func TestManPages(t *testing.T) {
	man := consumerTool(t, "man")
	dir := t.TempDir()
	t.Setenv("SOURCE_DATE_EPOCH", "1764633600")
	var out bytes.Buffer
	if code := dispatch(context.Background(), []string{"generate", "-man-dir", dir}, &out, &out); code != 0 {
		t.Fatalf("generate: exit %d\n%s", code, out.String())
	}
	text := map[string]string{}
	for name := range manPages {
		path := filepath.Join(dir, name)
		cmd := exec.Command(man, "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", path)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		var stderr bytes.Buffer
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("man --warnings %s: %v\n%s", name, err, stderr.String())
		}
		render := exec.Command(man, "-l", path)
		render.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANWIDTH=200")
		b, err := render.Output()
		if err != nil {
			t.Fatalf("man -l %s: %v", name, err)
		}
		text[name] = string(b)
		if !strings.Contains(text[name], "2025-12-02") {
			t.Errorf("%s is not dated by SOURCE_DATE_EPOCH", name)
		}
	}
	has := func(page, want string) {
		t.Helper()
		if !strings.Contains(text[page], want) {
			t.Errorf("%s lacks %q", page, want)
		}
	}
	for _, n := range commandOrder {
		has("carbonio-health.1", "carbonio-health "+n)
		if fs := commandFlags(n); fs != nil {
			fs.VisitAll(func(f *flag.Flag) {
				if !strings.Contains(text["carbonio-health.1"], "-"+f.Name+" ") && !strings.Contains(text["carbonio-health.1"], "-"+f.Name+"\n") {
					t.Errorf("carbonio-health.1 lacks the flag -%s of %s", f.Name, n)
				}
			})
		}
	}
	for _, p := range allprobes.Registry.Probes() {
		has("carbonio-health.1", "carbonio-health check "+p.Name)
		p.FlagSet().VisitAll(func(f *flag.Flag) {
			if !isFlagName(f.Name) { // the operands, in the synopsis
				if ops := strings.Fields(f.Usage); len(ops) > 0 {
					has("carbonio-health.1", "carbonio-health check "+p.Name+" [flags] "+ops[0])
				}
				return
			}
			// As the probe reads it: a whole word, so that --wt does not
			// pass for -wt.
			spelled := checkscript.Spelling(f)
			if !regexp.MustCompile(`(^|[\s,])` + regexp.QuoteMeta(spelled) + `([\s,]|$)`).MatchString(text["carbonio-health.1"]) {
				t.Errorf("carbonio-health.1 lacks %s of %s written as %s", f.Name, p.Name, spelled)
			}
		})
	}
	for _, wrong := range []string{"--wt", "--ct", "--to"} {
		if strings.Contains(text["carbonio-health.1"], wrong) {
			t.Errorf("carbonio-health.1 writes %s, which check_tcp does not read", wrong)
		}
	}
	for _, name := range []string{"disk", "load", "users", "socket", "tcp", "dirsize"} {
		has("carbonio-health-check.1", "carbonio-health-check "+name)
	}
	if strings.Contains(text["carbonio-health-check.1"], "carbonio-health-check dns") {
		t.Errorf("carbonio-health-check.1 lists dns, which that binary does not run")
	}
	for _, blk := range hcl.Reference.Blocks {
		has("carbonio-health.hcl.5", blk.Header)
		for _, a := range blk.Attributes {
			has("carbonio-health.hcl.5", a.Name)
		}
	}
}

// TestBadCommandLine: a wrong command, probe or flag keeps its exit code
// (2 as a command, 3 as a plugin), names the nearest right one and says
// where to read more.
func TestBadCommandLine(t *testing.T) {
	tests := []struct {
		args            []string
		code            int
		stdout, stderr  []string
		stdoutFirstLine string
	}{
		{args: []string{"plam"}, code: 2, stderr: []string{`unknown command "plam"; did you mean "plan"?`, "Read more: man carbonio-health"}},
		{args: []string{"valdate"}, code: 2, stderr: []string{`did you mean "validate"?`}},
		{args: []string{"nothing-like-it"}, code: 2, stderr: []string{`unknown command "nothing-like-it"`, "Commands:"}},
		{args: []string{"plan", "-jsn"}, code: 2, stderr: []string{"flag provided but not defined: -jsn; did you mean -json?", "Usage: carbonio-health plan", "Read more: man carbonio-health"}},
		{args: []string{"validate", "-config-dri", "x"}, code: 2, stderr: []string{"did you mean -config-dir?", "Read more: man carbonio-health"}},
		{args: []string{"run", "-metrics-adr", ":0"}, code: 2, stderr: []string{"did you mean -metrics-addr?"}},
		{args: []string{"status", "-bogus"}, code: 3, stdoutFirstLine: "HEALTH UNKNOWN - flag provided but not defined: -bogus", stderr: []string{"Read more: man carbonio-health"}},
		{args: []string{"status", "-fromat", "json"}, code: 3, stdoutFirstLine: "HEALTH UNKNOWN - flag provided but not defined: -fromat", stderr: []string{"did you mean -format?"}},
		{args: []string{"check", "dsk", "-p", "/"}, code: 3, stdoutFirstLine: `DSK UNKNOWN - unknown probe "dsk"; did you mean "disk"? (known: dirsize, disk, dns, leader, load, ping, socket, systemd, tcp, users)`, stdout: []string{"Read more: man carbonio-health"}},
		{args: []string{"check", "disk", "-p", "/", "--wraning", "20%"}, code: 3, stdoutFirstLine: "DISK UNKNOWN - disk: unrecognized option '--wraning'; did you mean --warning?", stdout: []string{"Usage: carbonio-health check disk", "Read more: man carbonio-health"}},
		{args: []string{"plan", "-h"}, code: 2, stderr: []string{"Usage: carbonio-health plan", "-diff", "Read more: man carbonio-health"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := dispatch(context.Background(), tt.args, &stdout, &stderr)
			if code != tt.code {
				t.Errorf("exit %d, want %d", code, tt.code)
			}
			first, _, _ := strings.Cut(stdout.String(), "\n")
			if tt.stdoutFirstLine != "" && first != tt.stdoutFirstLine {
				t.Errorf("first line %q, want %q", first, tt.stdoutFirstLine)
			}
			for _, w := range tt.stdout {
				if !strings.Contains(stdout.String(), w) {
					t.Errorf("stdout lacks %q:\n%s", w, stdout.String())
				}
			}
			for _, w := range tt.stderr {
				if !strings.Contains(stderr.String(), w) {
					t.Errorf("stderr lacks %q:\n%s", w, stderr.String())
				}
			}
		})
	}
}
