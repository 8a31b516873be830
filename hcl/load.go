package hcl

import (
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"slices"

	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclparse"
)

//go:embed catalog/*.hcl
var catalogFS embed.FS

// BuiltinPrefix names the embedded catalog's files in diagnostics.
const BuiltinPrefix = "builtin/"

// Options says what Load reads.
type Options struct {
	// ConfigDirs are the node's own directories (or single files); their
	// *.hcl files are read in lexical order after the built-in catalog.
	ConfigDirs []string
	// NoBuiltin leaves the built-in catalog out (tests of the language).
	NoBuiltin bool
	// PathExists decides `if_present` conditions at load; nil means os.Stat.
	PathExists func(path string) bool
	// DeferPresence leaves `if_present` undecided: such services stay in
	// Plan.Services with IfPresent set, for a caller that follows the paths
	// while it runs (the daemon) to decide with Plan.Present.
	DeferPresence bool
}

// Source is one declaration file's name and content.
type Source struct {
	Name string
	Src  []byte
}

// Load reads the built-in catalog and the node's files and resolves them into
// the node's Plan. On any error it returns a *DiagnosticsError and no plan.
func Load(opts Options) (*Plan, error) {
	var srcs []Source
	if !opts.NoBuiltin {
		b, err := Builtin()
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, b...)
	}
	for _, dir := range opts.ConfigDirs {
		s, err := readDir(dir)
		if err != nil {
			return nil, err
		}
		srcs = append(srcs, s...)
	}
	return LoadSources(opts, srcs)
}

// LoadSources parses and resolves the given sources in order, as Load does
// after reading them.
func LoadSources(opts Options, srcs []Source) (*Plan, error) {
	parser := hclparse.NewParser()
	d := newDecls()
	var diags hcl2.Diagnostics
	order := make(map[string]int, len(srcs))
	for i, s := range srcs {
		order[s.Name] = i
		f, ds := parser.ParseHCL(s.Src, s.Name)
		diags = append(diags, ds...)
		if f == nil || ds.HasErrors() {
			continue
		}
		diags = append(diags, d.addFile(f.Body)...)
	}
	if !diags.HasErrors() {
		diags = append(diags, d.applyOverrides()...)
	}
	var plan *Plan
	if !diags.HasErrors() {
		r := &resolver{d: d, order: order}
		plan = r.resolve()
		diags = append(diags, r.diags...)
	}
	if diags.HasErrors() {
		return nil, &DiagnosticsError{Diags: diags, Files: parser.Files()}
	}
	if opts.DeferPresence {
		return plan, nil
	}
	exists := opts.PathExists
	if exists == nil {
		exists = PathExists
	}
	return plan.Present(exists), nil
}

// Builtin returns the embedded catalog's files, named builtin/<file>.hcl.
func Builtin() ([]Source, error) {
	names, err := fs.Glob(catalogFS, "catalog/*.hcl")
	if err != nil {
		return nil, fmt.Errorf("listing the built-in catalog: %w", err)
	}
	slices.Sort(names)
	out := make([]Source, 0, len(names))
	for _, n := range names {
		b, err := catalogFS.ReadFile(n)
		if err != nil {
			return nil, fmt.Errorf("reading the built-in catalog: %w", err)
		}
		out = append(out, Source{Name: BuiltinPrefix + path.Base(n), Src: b})
	}
	return out, nil
}

// readDir reads dir's *.hcl files in lexical order; dir may also be one file.
func readDir(dir string) ([]Source, error) {
	st, err := os.Stat(dir)
	if err != nil {
		return nil, fmt.Errorf("config dir: %w", err)
	}
	files := []string{dir}
	if st.IsDir() {
		files, err = filepath.Glob(filepath.Join(dir, "*.hcl"))
		if err != nil {
			return nil, fmt.Errorf("config dir %s: %w", dir, err)
		}
		slices.Sort(files)
		if len(files) == 0 {
			return nil, errors.New("config dir " + dir + " holds no *.hcl file")
		}
	}
	out := make([]Source, 0, len(files))
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, fmt.Errorf("config file: %w", err)
		}
		out = append(out, Source{Name: f, Src: b})
	}
	return out, nil
}
