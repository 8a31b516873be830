package checkscript

import (
	"context"
	"encoding/binary"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// utmp record types (glibc <utmp.h>).
const (
	utBootTime     = 2
	utLoginProcess = 6
	utUserProcess  = 7
	utDeadProcess  = 8
	utmpSize       = 384 // sizeof(struct utmp) on glibc x86_64
)

// utmpRecord encodes one glibc x86_64 struct utmp:
// ut_type int16 @0, ut_pid int32 @4, ut_line[32] @8, ut_id[4] @40,
// ut_user[32] @44, ut_host[256] @76, ut_exit @332, ut_session @336,
// ut_tv {int32 sec, usec} @340, ut_addr_v6[4] @348, reserved[20] @364.
func utmpRecord(typ int16, pid int32, line, user, host string, when time.Time) []byte {
	b := make([]byte, utmpSize)
	binary.LittleEndian.PutUint16(b[0:], uint16(typ))
	binary.LittleEndian.PutUint32(b[4:], uint32(pid))
	copy(b[8:40], line)
	copy(b[40:44], strings.TrimPrefix(line, "pts/"))
	copy(b[44:76], user)
	copy(b[76:332], host)
	binary.LittleEndian.PutUint32(b[340:], uint32(when.Unix()))
	return b
}

// writeUtmp writes a utmp file with one record per type and returns its path.
func writeUtmp(t *testing.T, path string, types ...int16) string {
	t.Helper()
	var data []byte
	for i, typ := range types {
		data = append(data, utmpRecord(typ, int32(1000+i), "pts/"+string(rune('0'+i%10)), "user"+string(rune('a'+i%26)), "192.0.2.1", time.Unix(1700000000, 0))...)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func TestUsersFromUtmp(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOST_VAR", dir)
	utmp := filepath.Join(dir, "run", "utmp")
	tests := []struct {
		name  string
		types []int16
		extra []byte // appended raw bytes
		args  []string
		want  string
	}{
		{"only user processes count", []int16{utBootTime, utUserProcess, utLoginProcess, utUserProcess, utDeadProcess}, nil,
			[]string{"-w", "5", "-c", "10"}, "USERS OK - 2 users currently logged in |users=2;5;10;0"},
		{"warning", []int16{utUserProcess, utUserProcess, utUserProcess}, nil,
			[]string{"-w", "2", "-c", "10"}, "USERS WARNING - 3 users currently logged in |users=3;2;10;0"},
		{"critical", []int16{utUserProcess, utUserProcess, utUserProcess}, nil,
			[]string{"-w", "1", "-c", "2"}, "USERS CRITICAL - 3 users currently logged in |users=3;1;2;0"},
		{"nobody is a warning with @0:0", []int16{utBootTime}, nil,
			[]string{"-w", "@0:0", "-c", "10"}, "USERS WARNING - 0 users currently logged in |users=0;@0:0;10;0"},
		{"truncated trailing record ignored", []int16{utUserProcess}, make([]byte, 100),
			[]string{"-w", "5"}, "USERS OK - 1 users currently logged in |users=1;5;;0"},
		{"empty file", nil, nil, []string{"-c", "0"}, "USERS OK - 0 users currently logged in |users=0;;0;0"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			writeUtmp(t, utmp, tt.types...)
			if tt.extra != nil {
				f, err := os.OpenFile(utmp, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				_, _ = f.Write(tt.extra)
				_ = f.Close()
			}
			if got := runProbe(t, context.Background(), "users", tt.args...).String(); got != tt.want {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestUsersWithoutUtmp(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("HOST_VAR", dir)
	// No utmp at all: glibc's getutxent sees nobody, and so do we.
	if got := runProbe(t, context.Background(), "users", "-w", "5", "-c", "10").String(); got != "USERS OK - 0 users currently logged in |users=0;5;10;0" {
		t.Errorf("got %q", got)
	}
	// A utmp that cannot be read is UNKNOWN, not "0 users".
	if err := os.MkdirAll(filepath.Join(dir, "run", "utmp"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runProbe(t, context.Background(), "users", "-w", "5", "-c", "10")
	if r.Status != Unknown || !strings.HasPrefix(r.Summary, "Could not read utmp: ") {
		t.Errorf("got %q", r)
	}
}

func TestUsersDeadlineAndArguments(t *testing.T) {
	blocked := func(ctx context.Context) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	}
	c := newWith(t, "users", []string{"-w", "1", "-t", "0.2"}, func(fs *flag.FlagSet) func() (Check, error) {
		return usersFlags(fs, &usersCheck{count: blocked})
	})
	if got := c.Run(context.Background()).String(); got != "USERS CRITICAL - Socket timeout after 0.2 seconds" {
		t.Errorf("got %q", got)
	}
	for args, bad := range map[string]bool{"-w 5": false, "-c 10": false, "5 10": false, "-w 5 10": false, "-c x": false, "-w @": false,
		"": true, "-w 10:5": true, "-w -1": true, "-c 5 -w ~:-2": true, "-x": true} {
		_, err := Light.New("users", strings.Fields(args))
		if (err != nil) != bad {
			t.Errorf("Light.New(users, %q) error = %v, want error %v", args, err, bad)
		}
	}
}
