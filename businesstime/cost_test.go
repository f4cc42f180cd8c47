package businesstime

import (
	"testing"
	"time"
	_ "time/tzdata"
)

// TestCostFollowsStopsNotDays: the days the arithmetic looks at grow with
// the holidays and clock changes on the way, not with the days between.
// The count is deterministic, so this holds on a loaded machine.
func TestCostFollowsStopsNotDays(t *testing.T) {
	office := MustParseHours("09:00-12:30, 13:30-18:00")
	for _, tc := range []struct {
		zone     string
		holidays bool
		year     int // most days looked at for a year ahead
		tenYears int
	}{
		{"Europe/Paris", false, 12, 60}, // two changes a year
		{"Europe/Paris", true, 30, 240}, // and eight yearly holidays
		{"Asia/Kolkata", false, 6, 6},   // nothing to stop at
		{"Asia/Kolkata", true, 25, 200},
	} {
		cfg := Config{Zone: tc.zone, Week: Week{time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office}}
		if tc.holidays {
			for _, md := range []time.Month{1, 2, 3, 4, 5, 6, 7, 8} {
				cfg.Holidays = append(cfg.Holidays, Holiday{Date: Date{2026, md, 10}, Yearly: true})
			}
		}
		c, err := New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		from := time.Date(2026, 1, 7, 16, 20, 0, 0, c.loc)
		for _, h := range []struct {
			d   time.Duration
			max int
		}{{250 * 8 * time.Hour, tc.year}, {2500 * 8 * time.Hour, tc.tenYears}} {
			u, added := c.add(from, h.d)
			_, measured := c.between(from, u)
			t.Logf("%s, holidays %v, %v ahead: Add looked at %d days, Between at %d, of %d", tc.zone, tc.holidays, h.d, added, measured, int(u.Sub(from).Hours()/24))
			if added > h.max || measured > h.max+2 {
				t.Errorf("%s, holidays %v, %v ahead: Add looked at %d days, Between at %d; at most %d expected", tc.zone, tc.holidays, h.d, added, measured, h.max)
			}
		}
	}
}
