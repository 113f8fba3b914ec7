package reports

import "strings"

// MarkdownTable renders the columns as a Markdown table (name, type, unit,
// nullability, header label, description), the form docs/sweep.md holds.
func (s Schema[R]) MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| column | type | unit | null | xlsx header | description |\n|---|---|---|---|---|---|\n")
	cell := func(v string) string { return strings.ReplaceAll(v, "|", `\|`) }
	for i := range s.Columns {
		c := &s.Columns[i]
		null := ""
		if c.Nullable {
			null = "yes"
		}
		b.WriteString("| `" + c.Name + "` | " + c.Kind.String() + " | " + cell(c.Unit) + " | " + null + " | " +
			cell(c.Header()) + " | " + cell(c.Description) + " |\n")
	}
	return b.String()
}
