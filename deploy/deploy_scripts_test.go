package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// scriptletSandbox runs a maintainer script in a private mount namespace
// where systemd looks like it runs (/run/systemd/system exists) and /etc,
// /usr/bin and /var/lib are overlays whose writes stay in the test's temp
// dir. systemctl, deb-systemd-helper and systemd-sysusers are stubs that
// log their arguments to $CALLS, so the test sees what the script asked
// systemd to do, on this machine without systemd; `systemctl show` answers
// with a unit environment like a Carbonio node's.
const scriptletSandbox = `set -e
mount -t tmpfs tmpfs /run
mkdir -p /run/systemd/system
for d in /etc /usr/bin /var/lib; do
	n=$T/ov$(echo "$d" | tr / _)
	mkdir -p "$n/u" "$n/w"
	mount -t overlay overlay -o "lowerdir=$d,upperdir=$n/u,workdir=$n/w" "$d"
done
rm -rf /etc/carbonio-health /var/lib/carbonio-health
mkdir -p /etc/carbonio-health
if [ -n "$NODE_FILE" ]; then echo 'node {}' >/etc/carbonio-health/node.hcl; fi
echo CONSUL_HTTP_ADDR=127.0.0.1:18500 >/etc/carbonio-health/consul.env
printf '#!/bin/sh\necho "carbonio-health $* $CONSUL_HTTP_ADDR $CONSUL_HTTP_TOKEN_FILE" >>"$CALLS"\n' >/usr/bin/carbonio-health
chmod +x /usr/bin/carbonio-health
if [ -n "$KEPT" ]; then
	mkdir -p /var/lib/carbonio-health
	cp /usr/bin/carbonio-health /var/lib/carbonio-health/
	echo CONSUL_HTTP_TOKEN_FILE=/etc/carbonio/health/service-discover/token >/var/lib/carbonio-health/consul.env
fi
PATH=$STUBS:$PATH sh "$SCRIPT" "$@"
if [ -x /var/lib/carbonio-health/carbonio-health ]; then echo "kept binary" >>"$CALLS"; fi
if [ -s /var/lib/carbonio-health/consul.env ]; then echo "kept $(cat /var/lib/carbonio-health/consul.env)" >>"$CALLS"; fi
`

// TestMaintainerScripts runs each maintainer script with the arguments dpkg
// and rpm pass and checks what it asks of systemd: enable at install, start
// only with a node file, restart on upgrade, stop on remove, deregister
// only on purge. (TestPackageInstall runs the Debian ones for real, where
// systemd does not run.)
func TestMaintainerScripts(t *testing.T) {
	tool(t, "unshare")
	if os.Geteuid() != 0 {
		missing(t, "the maintainer scripts' sandbox needs root (make test runs as root)")
	}
	const unit = "carbonio-health.service"
	tests := []struct {
		script, args   string
		nodeFile, kept bool
		want           []string
		wantOut        string
	}{
		{"postinstall", "configure", false, false, []string{"systemd-sysusers carbonio-health.conf",
			"deb-systemd-helper unmask " + unit, "deb-systemd-helper --quiet was-enabled " + unit,
			"deb-systemd-helper enable " + unit, "systemctl daemon-reload"}, "enabled, not started"},
		{"postinstall", "configure", true, false, []string{"systemd-sysusers carbonio-health.conf",
			"deb-systemd-helper unmask " + unit, "deb-systemd-helper --quiet was-enabled " + unit,
			"deb-systemd-helper enable " + unit, "systemctl daemon-reload", "systemctl start " + unit}, ""},
		{"postinstall", "configure 1.0-1", true, false, []string{"systemd-sysusers carbonio-health.conf",
			"deb-systemd-helper unmask " + unit, "deb-systemd-helper --quiet was-enabled " + unit,
			"deb-systemd-helper enable " + unit, "systemctl daemon-reload", "systemctl try-restart " + unit}, ""},
		{"postinstall", "1", true, false, []string{"systemd-sysusers carbonio-health.conf",
			"systemctl enable " + unit, "systemctl daemon-reload", "systemctl start " + unit}, ""},
		{"postinstall", "2", true, false, []string{"systemd-sysusers carbonio-health.conf", "systemctl daemon-reload"}, ""},
		{"postinstall", "abort-upgrade 1.0-1", true, false, nil, ""},
		{"preremove", "remove", true, false, []string{"systemctl stop " + unit,
			"systemctl show --property Environment --value " + unit, "kept binary",
			"kept CONSUL_HTTP_TOKEN_FILE=/etc/carbonio/health/service-discover/token"}, ""},
		{"preremove", "upgrade 1.1-1", true, false, nil, ""},
		{"preremove", "0", true, false, []string{"systemctl stop " + unit, "systemctl disable " + unit}, ""},
		{"preremove", "1", true, false, nil, ""},
		{"postremove", "remove", true, true, []string{"systemctl daemon-reload", "deb-systemd-helper mask " + unit,
			"kept binary", "kept CONSUL_HTTP_TOKEN_FILE=/etc/carbonio/health/service-discover/token"}, ""},
		{"postremove", "purge", true, true, []string{
			"carbonio-health deregister 127.0.0.1:18500 /etc/carbonio/health/service-discover/token",
			"deb-systemd-helper purge " + unit, "deb-systemd-helper unmask " + unit}, ""},
		{"postremove", "upgrade 1.1-1", true, true, []string{"kept binary",
			"kept CONSUL_HTTP_TOKEN_FILE=/etc/carbonio/health/service-discover/token"}, ""},
		{"postremove", "0", true, false, []string{"systemctl daemon-reload"}, ""},
		{"postremove", "1", true, false, []string{"systemctl daemon-reload", "systemctl try-restart " + unit}, ""},
	}
	dir := t.TempDir()
	stubs := filepath.Join(dir, "stubs")
	if err := os.Mkdir(stubs, 0o755); err != nil {
		t.Fatal(err)
	}
	for _, s := range []string{"systemctl", "deb-systemd-helper", "systemd-sysusers"} {
		stub := "#!/bin/sh\necho \"" + s + " $*\" >>\"$CALLS\"\n"
		if s == "systemctl" {
			stub += `[ "$1" != show ] || echo "LANG=C CONSUL_HTTP_TOKEN_FILE=/etc/carbonio/health/service-discover/token"` + "\n"
		}
		if err := os.WriteFile(filepath.Join(stubs, s), []byte(stub), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	for _, tt := range tests {
		t.Run(tt.script+" "+tt.args, func(t *testing.T) {
			work := t.TempDir()
			calls := filepath.Join(work, "calls")
			script, err := filepath.Abs(filepath.Join("package", "scripts", tt.script+".sh"))
			if err != nil {
				t.Fatal(err)
			}
			cmd := exec.Command("unshare", append([]string{"--mount", "sh", "-c", scriptletSandbox, "sandbox"}, strings.Fields(tt.args)...)...)
			cmd.Env = append(os.Environ(), "T="+work, "STUBS="+stubs, "CALLS="+calls, "SCRIPT="+script)
			if tt.nodeFile {
				cmd.Env = append(cmd.Env, "NODE_FILE=1")
			}
			if tt.kept {
				cmd.Env = append(cmd.Env, "KEPT=1")
			}
			out, err := cmd.CombinedOutput()
			if err != nil {
				t.Fatalf("%s %s: %v\n%s", tt.script, tt.args, err, out)
			}
			b, _ := os.ReadFile(calls)
			got := strings.Split(strings.TrimSpace(string(b)), "\n")
			if len(b) == 0 {
				got = nil
			}
			if strings.Join(got, "\n") != strings.Join(tt.want, "\n") {
				t.Errorf("%s %s called:\n  %s\nwant:\n  %s", tt.script, tt.args, strings.Join(got, "\n  "), strings.Join(tt.want, "\n  "))
			}
			if !strings.Contains(string(out), tt.wantOut) {
				t.Errorf("output %q lacks %q", out, tt.wantOut)
			}
		})
	}
}
