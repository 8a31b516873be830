package main

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"strings"
	"testing"

	"github.com/zextras/carbonio-health/checkscript"
)

// TestMain lets the test binary stand in for carbonio-health-check, so the
// test can exec it as the Consul agent does.
func TestMain(m *testing.M) {
	if os.Getenv("CARBONIO_HEALTH_CHECK_AS_BINARY") == "1" {
		main()
		return
	}
	os.Exit(m.Run())
}

// TestSameAsCheckCommand: with or without the leading "check", the slim
// binary answers what `carbonio-health check` answers for a light probe (checkscript.Light.Main).
func TestSameAsCheckCommand(t *testing.T) {
	t.Setenv("HOST_VAR", t.TempDir()) // no utmp: nobody logged in
	args := []string{"users", "-w", "5", "-c", "10"}
	var want bytes.Buffer
	wantCode := checkscript.Light.Main(context.Background(), args, &want)
	for _, argv := range [][]string{append([]string{"check"}, args...), args, {"check", "nosuch"}} {
		cmd := exec.Command(os.Args[0], argv...)
		cmd.Env = append(os.Environ(), "CARBONIO_HEALTH_CHECK_AS_BINARY=1")
		var out bytes.Buffer
		cmd.Stdout = &out
		err := cmd.Run()
		var ee *exec.ExitError
		if err != nil && !errors.As(err, &ee) {
			t.Fatal(err)
		}
		code := cmd.ProcessState.ExitCode()
		if argv[1] == "nosuch" {
			if code != int(checkscript.Unknown) || !strings.Contains(out.String(), `unknown probe "nosuch"`) {
				t.Errorf("%v: exit %d, %q", argv, code, out.String())
			}
			continue
		}
		if code != wantCode || out.String() != want.String() {
			t.Errorf("%v: exit %d, %q; want %d, %q", argv, code, out.String(), wantCode, want.String())
		}
	}
}
