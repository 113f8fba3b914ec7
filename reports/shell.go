package reports

import "strings"

// ShellQuote quotes s for a POSIX shell when it holds anything but safe
// characters: the one quoting rule of every command the tool prints or
// records (serve commands, generated scripts, calibrate's launch_command,
// the fake vLLM's wrapper script).
func ShellQuote(s string) string {
	if s == "" {
		return "''"
	}
	safe := true
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune("-_./:=@%+,", r)) {
			safe = false
			break
		}
	}
	if safe {
		return s
	}
	return "'" + strings.ReplaceAll(s, "'", `'"'"'`) + "'"
}

// ShellJoin quotes each word with ShellQuote and joins them with spaces.
func ShellJoin(words []string) string {
	var sb strings.Builder
	for i, w := range words {
		if i > 0 {
			sb.WriteByte(' ')
		}
		sb.WriteString(ShellQuote(w))
	}
	return sb.String()
}
