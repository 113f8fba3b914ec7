package sweep

import (
	"fmt"
	"time"

	"github.com/vllm-wizard/vllm-wizard/reports"
)

// DefaultMaxPoints is the largest run (points of this machine's shard) a
// sweep starts without --max-points: about 50 min to Parquet and 2 h to
// JSONL at the rates below.
const DefaultMaxPoints = 1_000_000_000

// sweepRate is what one row of a format costs, measured on a 2-core machine
// (make bench-rss's grid, 1,000,080 rows, 2026-12-01): rows per second and
// output bytes per row.
type sweepRate struct {
	rowsPerSec  float64
	bytesPerRow float64
}

var sweepRates = map[reports.Format]sweepRate{
	reports.FormatParquet: {352_000, 12.3}, // 2.84 s, 12,344,387 B
	reports.FormatCSV:     {327_000, 310},  // 3.06 s, 310,115,586 B
	reports.FormatJSONL:   {150_000, 1312}, // 6.66 s, 1,312,471,980 B
	reports.FormatXLSX:    {11_900, 168},   // 83.9 s, 168,286,949 B
}

// CheckMaxPoints refuses a run of more than limit points (0 = no limit)
// before it starts, with what it would cost and how to split it.
func CheckMaxPoints(count, total, limit int64, format reports.Format) error {
	if limit == 0 || count <= limit {
		return nil
	}
	if format == "" {
		format = reports.FormatParquet
	}
	r := sweepRates[format]
	n := shardsFor(total, limit)
	return fmt.Errorf("the run has %s points, more than --max-points %s: at about %s rows/s to %s (measured on 2 cores) it would take %s and write %s; "+
		"split the grid into %d runs with --shard i/%d (i = 0 to %d, one per machine), or raise --max-points",
		GroupDigits(count), GroupDigits(limit), GroupDigits(int64(r.rowsPerSec)), format, humanDuration(float64(count)/r.rowsPerSec),
		humanBytes(float64(count)*r.bytesPerRow), n, n, n-1)
}

// shardsFor is the fewest shards of a total-point grid that each fit limit.
func shardsFor(total, limit int64) int64 {
	return (total + limit - 1) / limit
}

// humanDuration writes seconds as "about 3 h 20 min" or "about 12 days".
func humanDuration(secs float64) string {
	d := time.Duration(min(secs, 1e12) * float64(time.Second))
	switch {
	case d >= 48*time.Hour:
		return fmt.Sprintf("about %.0f days", d.Hours()/24)
	case d >= time.Hour:
		return fmt.Sprintf("about %d h %02d min", int(d.Hours()), int(d.Minutes())%60)
	default:
		return fmt.Sprintf("about %d min", max(1, int(d.Minutes())))
	}
}

// humanBytes writes a size with a decimal unit: "12 GB", "1.3 TB".
func humanBytes(b float64) string {
	units := []string{"B", "kB", "MB", "GB", "TB", "PB", "EB"}
	i := 0
	for b >= 1000 && i < len(units)-1 {
		b /= 1000
		i++
	}
	if b < 10 && i > 0 {
		return fmt.Sprintf("%.1f %s", b, units[i])
	}
	return fmt.Sprintf("%.0f %s", b, units[i])
}
