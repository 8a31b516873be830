package main

import (
	"flag"
	"os"

	"github.com/zextras/carbonio-health/hcl"
)

// DefaultConfigDir holds the node's own declaration files in production.
const DefaultConfigDir = "/etc/carbonio-health"

// addConfigDirFlag declares the repeatable -config-dir on fs; each use
// appends to *dirs.
func addConfigDirFlag(fs *flag.FlagSet, dirs *[]string) {
	fs.Func("config-dir", "directory (or file) of node declarations, *.hcl; repeatable (default "+DefaultConfigDir+" when it exists)",
		func(s string) error {
			*dirs = append(*dirs, s)
			return nil
		})
}

// loadOptions returns the loader options for the given -config-dir values:
// the default directory is read when none is given and it exists.
func loadOptions(dirs []string) hcl.Options {
	if len(dirs) == 0 {
		if _, err := os.Stat(DefaultConfigDir); err == nil {
			dirs = []string{DefaultConfigDir}
		}
	}
	return hcl.Options{ConfigDirs: dirs}
}
