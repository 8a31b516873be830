package main

import (
	"bytes"
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/zextras/carbonio-health/checkscript/allprobes"
)

const readmePath = "../../README.md"

var (
	shBlock     = regexp.MustCompile("(?s)```sh\n(.*?)```")
	codeSpan    = regexp.MustCompile("`(carbonio-health [^`]*)`")
	nfpmDst     = regexp.MustCompile(`(?m)^\s+dst: (\S+)`)
	placeholder = regexp.MustCompile(`<[^>]*>|\[[^\]]*\]|\.\.\.|…`)
)

// readmeCommands returns every command line of the README: each line of
// its sh blocks (comments dropped, && and | split into their commands) and
// each `carbonio-health …` code span of its prose that is a whole command
// (no placeholder such as <probe> or [flags]).
func readmeCommands(t *testing.T) []string {
	text, err := os.ReadFile(readmePath)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, m := range shBlock.FindAllStringSubmatch(string(text), -1) {
		for _, line := range strings.Split(m[1], "\n") {
			line, _, _ = strings.Cut(line, "#")
			for _, and := range strings.Split(line, "&&") {
				for _, c := range strings.Split(and, "|") {
					if c = strings.TrimSpace(c); c != "" {
						out = append(out, c)
					}
				}
			}
		}
	}
	prose := shBlock.ReplaceAllString(string(text), "")
	for _, m := range codeSpan.FindAllStringSubmatch(prose, -1) {
		if !placeholder.MatchString(m[1]) && !strings.Contains(m[1], "|") {
			out = append(out, m[1])
		}
	}
	return out
}

// TestReadmeCommands: every command the README tells a user to type is
// one that works. carbonio-health's own read-only commands (validate,
// plan, check) run for real and must succeed; the others (run, status,
// setup, which need a node's agent and token) must name a command and
// flags that exist and parse. make targets must exist (make -n), files
// copied from /usr/share/carbonio-health or /etc/carbonio-health must be
// files the package installs, systemctl must name a unit the package
// ships or Carbonio's agent, and the package globs must match what make
// package names. The install steps themselves run as written only on a
// node with systemd and Carbonio's agent.
func TestReadmeCommands(t *testing.T) {
	nfpm, err := os.ReadFile("../../deploy/package/nfpm.yaml")
	if err != nil {
		t.Fatal(err)
	}
	shipped := map[string]bool{}
	for _, m := range nfpmDst.FindAllStringSubmatch(string(nfpm), -1) {
		shipped[m[1]] = true
	}
	cmds := readmeCommands(t)
	if len(cmds) < 10 {
		t.Fatalf("found only %d commands in the README: %q", len(cmds), cmds)
	}
	for _, line := range cmds {
		t.Run(line, func(t *testing.T) {
			words := shellFields(line)
			switch words[0] {
			case "carbonio-health":
				readmeCarbonioHealth(t, words[1:])
			case "make":
				cmd := exec.Command("make", "-n", "-C", "../..", words[1])
				if out, err := cmd.CombinedOutput(); err != nil {
					t.Errorf("make -n %s: %v\n%s", words[1], err, out)
				}
			case "cp":
				if !shipped[words[1]] {
					t.Errorf("cp %s: the package installs no such file", words[1])
				}
			case "systemctl":
				unit := words[len(words)-1]
				if unit != "carbonio-health" && unit != "service-discover" {
					t.Errorf("systemctl names unit %q: neither the package's nor Carbonio's agent", unit)
				}
			case "apt", "dnf":
				pkg := filepath.Base(words[len(words)-1])
				name := "carbonio-health_0.1.0-1_amd64.deb"
				if words[0] == "dnf" {
					name = "carbonio-health-0.1.0-1.x86_64.rpm"
				}
				if ok, _ := filepath.Match(pkg, name); !ok {
					t.Errorf("%s: %q does not match the package make package names (%s)", words[0], pkg, name)
				}
			case "service-discover":
				// Carbonio's own command (CARBONIO.md): prints the management token.
			default:
				t.Errorf("the README runs %q, which no test knows", words[0])
			}
		})
	}
}

// readmeCarbonioHealth checks one carbonio-health command line of the
// README: it parses, and the read-only commands run and succeed.
func readmeCarbonioHealth(t *testing.T, args []string) {
	if len(args) == 0 {
		t.Fatal("carbonio-health without a command")
	}
	name := args[0]
	if _, ok := commands[name]; !ok && name != "version" {
		t.Fatalf("no command %q", name)
	}
	switch name {
	case "check":
		probe, flags := args[1], args[2:]
		if probe == "-steady" {
			probe, flags = args[2], args[3:]
		}
		if _, err := allprobes.Registry.New(probe, flags); err != nil {
			t.Errorf("check %v: %v", args[1:], err)
		}
		return
	case "version":
		return
	}
	fs := commandFlags(name)
	if err := fs.Parse(args[1:]); err != nil {
		t.Fatalf("%v: %v", args, err)
	}
	switch name {
	case "validate", "plan":
		if _, err := os.Stat(DefaultConfigDir); err == nil {
			t.Skipf("%s exists here: the command would read this machine's declarations", DefaultConfigDir)
		}
		var out bytes.Buffer
		if code := dispatch(context.Background(), args, &out, &out); code != 0 {
			t.Errorf("%v: exit %d\n%s", args, code, out.String())
		}
	}
}

// shellFields splits a command line into words, honouring single quotes.
func shellFields(line string) []string {
	var out []string
	var w strings.Builder
	quoted, inWord := false, false
	for _, r := range line {
		switch {
		case r == '\'':
			quoted, inWord = !quoted, true
		case r == ' ' && !quoted:
			if inWord {
				out = append(out, w.String())
				w.Reset()
			}
			inWord = false
		default:
			w.WriteRune(r)
			inWord = true
		}
	}
	if inWord {
		out = append(out, w.String())
	}
	return out
}
