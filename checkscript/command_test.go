package checkscript

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"
)

func TestMain_Usage(t *testing.T) {
	tests := []struct {
		name      string
		args      []string
		want      Status
		firstLine string   // prefix of the first output line
		contains  []string // further expected text
	}{
		{"no args", nil, Unknown, "Usage: carbonio-health check <probe>", []string{"disk", "tcp", "load", "users"}},
		{"-h", []string{"-h"}, Unknown, "Usage: carbonio-health check <probe>", []string{"Probes:"}},
		{"--help", []string{"--help"}, Unknown, "Usage: carbonio-health check <probe>", nil},
		{"unknown probe", []string{"nosuch"}, Unknown, "NOSUCH UNKNOWN - unknown probe \"nosuch\"", []string{"Probes:"}},
		{"probe -h", []string{"disk", "-h"}, Unknown, "Usage: carbonio-health check disk [flags] [W C] [PATH]", []string{"-p, --partition, --path", "--used-warning"}},
		{"bad flag", []string{"load", "-x"}, Unknown, "LOAD UNKNOWN - load: invalid option -- 'x'", []string{"Usage: carbonio-health check load"}},
		{"bad value", []string{"tcp", "-H", "127.0.0.1", "-p", "0"}, Unknown, "TCP UNKNOWN - tcp: Port must be a positive integer", []string{"Usage: carbonio-health check tcp"}},
		{"stray argument", []string{"socket", "-p", "/x", "extra"}, Unknown, "SOCKET UNKNOWN - socket: unexpected argument \"extra\"", nil},
		{"bad range", []string{"users", "-w", "10:5"}, Unknown, "USERS UNKNOWN - users: Range format incorrect", nil},
		{"load inconsistency", []string{"load", "-w", "5,4", "-c", "3"}, Unknown, "LOAD UNKNOWN - load: Parameter inconsistency: 1-minute", nil},
		{"bad timeout", []string{"users", "-t", "0"}, Unknown, "USERS UNKNOWN", nil},
		{"probe typo", []string{"dsk", "-p", "/"}, Unknown, "DSK UNKNOWN - unknown probe \"dsk\"; did you mean \"disk\"?", []string{"Probes:", "Read more: man carbonio-health\n"}},
		{"flag typo", []string{"disk", "-p", "/", "--wraning", "20%"}, Unknown, "DISK UNKNOWN - disk: unrecognized option '--wraning'; did you mean --warning?", []string{"Usage: carbonio-health check disk", "Read more: man carbonio-health\n"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var out bytes.Buffer
			got := Light.Main(context.Background(), tt.args, &out)
			if got != int(tt.want) {
				t.Errorf("exit = %d, want %d; output:\n%s", got, tt.want, out.String())
			}
			first, _, _ := strings.Cut(out.String(), "\n")
			if !strings.HasPrefix(first, tt.firstLine) {
				t.Errorf("first line = %q, want prefix %q", first, tt.firstLine)
			}
			for _, c := range tt.contains {
				if !strings.Contains(out.String(), c) {
					t.Errorf("output lacks %q:\n%s", c, out.String())
				}
			}
		})
	}
}

func TestMain_RunsProbe(t *testing.T) {
	t.Setenv("HOST_VAR", t.TempDir()) // no utmp: nobody logged in
	var out bytes.Buffer
	code := Light.Main(context.Background(), []string{"users", "-w", "5", "-c", "10"}, &out)
	if code != 0 || out.String() != "USERS OK - 0 users currently logged in |users=0;5;10;0\n" {
		t.Errorf("exit %d, output %q", code, out.String())
	}
	out.Reset()
	code = Light.Main(context.Background(), []string{"users", "-w", "@0:0", "-c", "10"}, &out)
	if code != 1 || !strings.HasPrefix(out.String(), "USERS WARNING") {
		t.Errorf("exit %d, output %q", code, out.String())
	}
}

func TestNewErrorsAreUsageErrors(t *testing.T) {
	for _, args := range [][]string{{"-w"}, {"-w", "5:1"}, {"-t", "soon"}} {
		_, err := Light.New("users", args)
		var ue *UsageError
		if !errors.As(err, &ue) || ue.Probe != "users" || ue.Usage == "" {
			t.Errorf("Light.New(users, %q) error = %#v, want a *UsageError with usage", args, err)
		}
	}
	_, err := Light.New("nosuch", nil)
	var ue *UsageError
	if !errors.As(err, &ue) || ue.Probe != "" {
		t.Errorf("Light.New(nosuch) error = %#v", err)
	}
}

func TestTimeoutFlag(t *testing.T) {
	tests := []struct {
		arg  string
		want time.Duration
	}{{"", DefaultTimeout}, {"3", 3 * time.Second}, {"0.5", 500 * time.Millisecond}, {"1500ms", 1500 * time.Millisecond}}
	for _, tt := range tests {
		args := []string{"-w", "1"}
		if tt.arg != "" {
			args = append(args, "-t", tt.arg)
		}
		c, err := Light.New("users", args)
		if err != nil {
			t.Fatalf("Light.New(users, %q): %v", args, err)
		}
		if got := TimeoutOf(c); got != tt.want {
			t.Errorf("-t %q: timeout %v, want %v", tt.arg, got, tt.want)
		}
	}
}

func TestEveryProbeHasHelp(t *testing.T) {
	for _, p := range Light.Probes() {
		if p.Label == "" || p.Summary == "" || p.Define == nil {
			t.Errorf("probe %q lacks a label, summary or Define", p.Name)
		}
		if u := p.Usage(); !strings.Contains(u, "-t, --timeout, -to VALUE") {
			t.Errorf("probe %q usage lacks -t:\n%s", p.Name, u)
		}
	}
}
