package main

import (
	"fmt"
	"strings"

	"github.com/zextras/carbonio-health/hcl"
)

// hclPage is carbonio-health.hcl(5), written from hcl.Reference, the text
// the language section of hcl/README.md is also written from.
func hclPage(date string) string {
	var b strings.Builder
	ref := hcl.Reference
	manHeader(&b, "carbonio-health.hcl", "5", date)
	b.WriteString(".SH NAME\ncarbonio-health.hcl \\- declarations of the services and checks carbonio-health registers\n")
	b.WriteString(".SH SYNOPSIS\n.I /etc/carbonio-health/*.hcl\n")
	b.WriteString(".SH DESCRIPTION\n")
	writeRoffDoc(&b, ref.Intro)
	writeRoffDoc(&b, "```\n"+nodeExample+"```")
	b.WriteString(".SH BLOCKS\n")
	for _, blk := range ref.Blocks {
		fmt.Fprintf(&b, ".SS %s\n", roffEscape(blk.Header))
		doc := blk.Doc
		if blk.In != "" {
			doc += " It appears in `" + strings.ReplaceAll(blk.In, ", ", "` and `") + "` blocks."
		}
		writeRoffDoc(&b, doc)
		for _, a := range blk.Attributes {
			text := a.Doc + " (" + a.Type
			if d := a.DefaultMarkup(); d != "" {
				text += "; default " + d
			}
			text += ")."
			fmt.Fprintf(&b, ".TP\n\\fB%s\\fR\n%s\n", roffEscape(a.Name), roffInline(text))
		}
	}
	for _, s := range ref.Sections {
		fmt.Fprintf(&b, ".SH %s\n", strings.ToUpper(roffEscape(s.Title)))
		writeRoffDoc(&b, s.Text)
	}
	b.WriteString(".SH FILES\n")
	writeRoffDoc(&b, "- `/etc/carbonio-health/*.hcl`: the node's declarations.\n"+
		"- `/etc/carbonio-health/node.hcl.example`: a node file to start from.\n"+
		"- the built-in catalog: `carbonio-health plan` prints what it declares for this node, and why the rest is left out.")
	b.WriteString(".SH SEE ALSO\n.BR carbonio-health (1),\n.BR carbonio-health-check (1)\n")
	return b.String()
}

// nodeExample is the node file of the manual page.
const nodeExample = `# /etc/carbonio-health/node.hcl
node {
  roles    = ["mta", "proxy"]
  features = ["antivirus", "dkim"]
}
`
