package hcl

import (
	"cmp"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"

	hcl2 "github.com/hashicorp/hcl/v2"
	"github.com/zclconf/go-cty/cty"
	"github.com/zclconf/go-cty/cty/convert"
	"github.com/zclconf/go-cty/cty/gocty"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/allprobes"
)

// decodeExpression evaluates a literal expression into the Go value target
// points to, as gohcl.DecodeExpression does (same diagnostics). gohcl is not
// imported because it links hclwrite and, through it, go-cmp, whose
// package initialisation every exec of the binary would pay (0.5 ms of a
// `carbonio-health check`).
func decodeExpression(expr hcl2.Expression, ctx *hcl2.EvalContext, target any) hcl2.Diagnostics {
	val, diags := expr.Value(ctx)
	ty, err := gocty.ImpliedType(target)
	if err != nil {
		panic(fmt.Sprintf("unsuitable decodeExpression target: %s", err))
	}
	if val, err = convert.Convert(val, ty); err == nil {
		err = gocty.FromCtyValue(val, target)
	}
	if err != nil {
		diags = append(diags, &hcl2.Diagnostic{
			Severity: hcl2.DiagError,
			Summary:  "Unsuitable value type",
			Detail:   fmt.Sprintf("Unsuitable value: %s", err.Error()),
			Subject:  expr.StartRange().Ptr(),
			Context:  expr.Range().Ptr(),
		})
	}
	return diags
}

// Typed reads of unevaluated attributes. Each returns the zero value and
// appends a diagnostic pointing at the expression when the value does not
// fit. Expressions are literal: no variables or functions are defined.

func (r *resolver) str(attrs hcl2.Attributes, name, def string) string {
	a, ok := attrs[name]
	if !ok {
		return def
	}
	var v string
	r.diags = append(r.diags, decodeExpression(a.Expr, nil, &v)...)
	return v
}

// text validates an optional free-text attribute (a description) that
// nothing else reads.
func (r *resolver) text(a *hcl2.Attribute) string {
	if a == nil {
		return ""
	}
	return r.str(hcl2.Attributes{a.Name: a}, a.Name, "")
}

func (r *resolver) boolean(attrs hcl2.Attributes, name string, def bool) bool {
	a, ok := attrs[name]
	if !ok {
		return def
	}
	var v bool
	r.diags = append(r.diags, decodeExpression(a.Expr, nil, &v)...)
	return v
}

func (r *resolver) strings(attrs hcl2.Attributes, name string) []string {
	a, ok := attrs[name]
	if !ok {
		return nil
	}
	var v []string
	r.diags = append(r.diags, decodeExpression(a.Expr, nil, &v)...)
	return v
}

func (r *resolver) strMap(attrs hcl2.Attributes, name string) map[string]string {
	a, ok := attrs[name]
	if !ok {
		return nil
	}
	var v map[string]string
	r.diags = append(r.diags, decodeExpression(a.Expr, nil, &v)...)
	return v
}

// port reads a TCP port, 1..65535; 0 when unset, -1 when invalid (so no
// second error follows about a missing port).
func (r *resolver) port(attrs hcl2.Attributes) int {
	a, ok := attrs["port"]
	if !ok {
		return 0
	}
	var v int
	if ds := decodeExpression(a.Expr, nil, &v); ds.HasErrors() {
		r.diags = append(r.diags, ds...)
		return -1
	}
	if v < 1 || v > 65535 {
		r.errorf(a.Expr.Range(), "Port out of range", "Port %d is not between 1 and 65535.", v)
		return -1
	}
	return v
}

// duration reads a Go duration string such as "10s" or "1m30s".
func (r *resolver) duration(attrs hcl2.Attributes, name string, def time.Duration) time.Duration {
	a, ok := attrs[name]
	if !ok {
		return def
	}
	var s string
	if ds := decodeExpression(a.Expr, nil, &s); ds.HasErrors() {
		r.diags = append(r.diags, ds...)
		return def
	}
	d, err := time.ParseDuration(s)
	if err != nil || d <= 0 {
		r.errorf(a.Expr.Range(), "Invalid duration",
			"%s = %q is not a positive duration; write it like \"10s\", \"1m\" or \"1m30s\".", name, s)
		return def
	}
	return d
}

// count reads a whole number of consecutive results, 1..maxDamping.
func (r *resolver) count(attrs hcl2.Attributes, name string, def int) int {
	a, ok := attrs[name]
	if !ok {
		return def
	}
	var f float64
	if ds := decodeExpression(a.Expr, nil, &f); ds.HasErrors() {
		r.diags = append(r.diags, ds...)
		return def
	}
	if f != float64(int(f)) || f < 1 || f > maxDamping {
		r.errorf(a.Expr.Range(), "Invalid count",
			"%s = %s must be a whole number of consecutive results from 1 (at once) to %d.", name, checkscript.FormatFloat(f), maxDamping)
		return def
	}
	return int(f)
}

// args merges the layers of an args attribute key by key (null removes a
// key) and turns them into probe flags: a one-letter key k becomes -k, a
// longer one --key; true adds the bare flag, false and null omit it; a list
// repeats the flag. Keys are sorted, so the command line is stable, after
// the probe's ArgRank where it has one (disk's paths after its thresholds,
// since check_disk applies them in order).
func (r *resolver) args(layers []*hcl2.Attribute, probe string) []string {
	merged := map[string]cty.Value{}
	for _, a := range layers {
		v, ds := a.Expr.Value(nil)
		r.diags = append(r.diags, ds...)
		if ds.HasErrors() {
			continue
		}
		if v.IsNull() || !(v.Type().IsObjectType() || v.Type().IsMapType()) {
			r.errorf(a.Expr.Range(), "Invalid args", "args must be an object of flags, like { w = \"80%%\", c = \"90%%\" }.")
			continue
		}
		for k, e := range v.AsValueMap() {
			merged[k] = e
		}
	}
	keys := sortedKeys(merged)
	if p, ok := allprobes.Registry.Lookup(probe); ok && p.ArgRank != nil {
		slices.SortStableFunc(keys, func(a, b string) int { return cmp.Compare(p.ArgRank[a], p.ArgRank[b]) })
	}
	var out []string
	for _, k := range keys {
		flag := "--" + k
		if len(k) == 1 {
			flag = "-" + k
		}
		vals, err := flagValues(merged[k])
		if err != nil {
			r.errorf(layers[len(layers)-1].Expr.Range(), "Invalid args", "args.%s: %s", k, err)
			continue
		}
		for _, v := range vals {
			if v == "" {
				out = append(out, flag)
			} else {
				out = append(out, flag, v)
			}
		}
	}
	return out
}

// flagValues renders one args value; "" stands for a bare boolean flag.
func flagValues(v cty.Value) ([]string, error) {
	switch {
	case v.IsNull():
		return nil, nil
	case !v.IsKnown():
		return nil, fmt.Errorf("value is not known")
	case v.Type() == cty.String:
		return []string{v.AsString()}, nil
	case v.Type() == cty.Number:
		return []string{v.AsBigFloat().Text('f', -1)}, nil
	case v.Type() == cty.Bool:
		if v.True() {
			return []string{""}, nil
		}
		return nil, nil
	case v.Type().IsTupleType() || v.Type().IsListType():
		var out []string
		for _, e := range v.AsValueSlice() {
			s, err := flagValues(e)
			if err != nil {
				return nil, err
			}
			if len(s) != 1 || s[0] == "" {
				return nil, fmt.Errorf("list elements must be strings or numbers")
			}
			out = append(out, s...)
		}
		return out, nil
	default:
		return nil, fmt.Errorf("a flag value must be a string, number, bool or list, not %s", v.Type().FriendlyName())
	}
}

// later returns whichever of two attributes was read last (by file, then by
// position), or the one that is set; nil when neither is.
func (r *resolver) later(a, b *hcl2.Attribute) *hcl2.Attribute {
	switch {
	case a == nil:
		return b
	case b == nil:
		return a
	}
	ra, rb := a.Range, b.Range
	if oa, ob := r.order[ra.Filename], r.order[rb.Filename]; oa != ob {
		if oa > ob {
			return a
		}
		return b
	}
	if ra.Start.Byte > rb.Start.Byte {
		return a
	}
	return b
}

func (r *resolver) errorf(rng hcl2.Range, summary, format string, args ...any) {
	r.diags = append(r.diags, &hcl2.Diagnostic{
		Severity: hcl2.DiagError,
		Summary:  summary,
		Detail:   fmt.Sprintf(format, args...),
		Subject:  rng.Ptr(),
	})
}

func sortedKeys[V any](m map[string]V) []string {
	return slices.Sorted(maps.Keys(m))
}

func joinQuoted(items []string) string {
	q := make([]string, len(items))
	for i, s := range items {
		q[i] = fmt.Sprintf("%q", s)
	}
	return strings.Join(q, ", ")
}
