package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"time"
)

// manPages are the manual pages generate writes, by file name.
var manPages = map[string]func(date string) string{
	"carbonio-health.1":       carbonioHealthPage,
	"carbonio-health-check.1": checkPage,
	"carbonio-health.hcl.5":   hclPage,
}

func init() {
	// Added here, as setup is: generate reads the command table, which
	// therefore cannot name it in its literal.
	commands["generate"] = command{
		summary: "write the manual pages and the bash completion (what the package installs)",
		run:     runGenerate,
	}
}

// runGenerate is `carbonio-health generate`: the manual pages and the bash
// completion, from the definitions -h and the loader use (what the package
// installs; deploy/package/build.sh runs it).
func runGenerate(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(ctx, "generate", stderr)
	manDir := fs.String("man-dir", "", "write carbonio-health.1, carbonio-health-check.1 and carbonio-health.hcl.5 into this directory")
	completion := fs.String("bash-completion", "", "write the bash completion of carbonio-health and carbonio-health-check into this file")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if fs.NArg() > 0 || (*manDir == "" && *completion == "") {
		fmt.Fprintln(stderr, "carbonio-health generate: give -man-dir DIR and/or -bash-completion FILE")
		fs.Usage()
		return 2
	}
	date, err := manDate()
	if err != nil {
		fmt.Fprintf(stderr, "carbonio-health generate: %v\n", err)
		return 1
	}
	write := func(path, text string) bool {
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			fmt.Fprintf(stderr, "carbonio-health generate: %v\n", err)
			return false
		}
		fmt.Fprintln(stdout, path)
		return true
	}
	if *manDir != "" {
		if err := os.MkdirAll(*manDir, 0o755); err != nil {
			fmt.Fprintf(stderr, "carbonio-health generate: %v\n", err)
			return 1
		}
		for _, name := range []string{"carbonio-health.1", "carbonio-health-check.1", "carbonio-health.hcl.5"} {
			if !write(filepath.Join(*manDir, name), manPages[name](date)) {
				return 1
			}
		}
	}
	if *completion != "" && !write(*completion, bashCompletion()) {
		return 1
	}
	return 0
}

// manDate is the pages' date: $SOURCE_DATE_EPOCH's (reproducible builds:
// the package sets it to the commit's date), else today's.
func manDate() (string, error) {
	t := time.Now()
	if s := os.Getenv("SOURCE_DATE_EPOCH"); s != "" {
		sec, err := strconv.ParseInt(s, 10, 64)
		if err != nil {
			return "", fmt.Errorf("SOURCE_DATE_EPOCH=%q: %w", s, err)
		}
		t = time.Unix(sec, 0)
	}
	return t.UTC().Format("2006-01-02"), nil
}
