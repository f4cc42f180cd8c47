package businesstime

import (
	"testing"
	"time"
)

// BenchmarkAddSkipOrWalk sets the arithmetic beside the same code made to
// look at every day, in one run: the ratio is what counting stretches from
// the week template saves. days/op is how many days each looked at.
func BenchmarkAddSkipOrWalk(b *testing.B) {
	office := MustParseHours("09:00-12:30, 13:30-18:00")
	cfg := Config{Zone: "Europe/Paris", Week: Week{time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office}}
	for _, md := range []struct {
		m time.Month
		d int
	}{{1, 1}, {5, 1}, {5, 8}, {7, 14}, {8, 15}, {11, 1}, {11, 11}, {12, 25}} {
		cfg.Holidays = append(cfg.Holidays, Holiday{Date: Date{2026, md.m, md.d}, Yearly: true})
	}
	skipping, err := New(cfg)
	if err != nil {
		b.Fatal(err)
	}
	walking, _ := New(cfg)
	walking.walkOnly = true
	from := time.Date(2026, 1, 7, 16, 20, 0, 0, skipping.loc)
	for _, h := range []struct {
		name string
		d    time.Duration
	}{{"1y", 250 * 8 * time.Hour}, {"10y", 2500 * 8 * time.Hour}} {
		for _, v := range []struct {
			name string
			c    *Calendar
		}{{"skip", skipping}, {"walk", walking}} {
			b.Run(h.name+"/"+v.name, func(b *testing.B) {
				b.ReportAllocs()
				var days int
				for b.Loop() {
					_, days = v.c.add(from, h.d)
				}
				b.ReportMetric(float64(days), "days/op")
			})
		}
	}
}
