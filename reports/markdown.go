package reports

import "strings"

// MarkdownTable renders the columns as a Markdown table (name, type, unit,
// nullability, scope, header label, description), the form docs/sweep.md
// holds.
func (s Schema[R]) MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| column | type | unit | null | varies by | xlsx header | description |\n|---|---|---|---|---|---|---|\n")
	cell := func(v string) string { return strings.ReplaceAll(v, "|", `\|`) }
	for i := range s.Columns {
		c := &s.Columns[i]
		null := ""
		switch {
		case c.GroupNull != nil:
			null = "yes (by group)"
		case c.Nullable:
			null = "yes"
		}
		varies := "row"
		if c.Scope == ScopeGroup {
			varies = "group"
		}
		b.WriteString("| `" + c.Name + "` | " + c.Kind.String() + " | " + cell(c.Unit) + " | " + null + " | " + varies + " | " +
			cell(c.Header()) + " | " + cell(c.Description) + " |\n")
	}
	return b.String()
}
