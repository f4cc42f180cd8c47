package businesstime_test

import (
	"slices"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/emailflow/emailflow/businesstime"
)

// Zones with every kind of change: none (UTC, Kolkata), an hour (Paris,
// New York), half an hour (Lord Howe), a 45-minute offset (Kathmandu,
// Chatham), changes at midnight (Santiago, Havana, Beirut), a skipped day
// (Apia, 2011).
var propertyZones = []string{
	"UTC", "Europe/Paris", "America/New_York", "Asia/Kolkata", "Asia/Kathmandu",
	"Australia/Lord_Howe", "Pacific/Chatham", "America/Santiago", "America/Havana",
	"Asia/Beirut", "Pacific/Apia", "America/St_Johns",
}

// genHours draws up to three spans on a quarter-hour grid.
func genHours(t *rapid.T, label string) businesstime.Hours {
	k := rapid.IntRange(0, 3).Draw(t, label+" spans")
	if k == 0 {
		return nil
	}
	marks := rapid.SliceOfNDistinct(rapid.IntRange(0, 96), 2*k, 2*k, rapid.ID[int]).Draw(t, label+" marks")
	slices.Sort(marks)
	var h businesstime.Hours
	for i := 0; i < len(marks); i += 2 {
		h = append(h, businesstime.Span{From: businesstime.TimeOfDay(marks[i] * 15), To: businesstime.TimeOfDay(marks[i+1] * 15)})
	}
	return h
}

// genCase draws a calendar and an instant; the instant is often near one
// of the zone's offset changes.
func genCase(t *rapid.T) (businesstime.Config, *businesstime.Calendar, time.Time) {
	cfg := businesstime.Config{Zone: rapid.SampledFrom(propertyZones).Draw(t, "zone")}
	loc, err := time.LoadLocation(cfg.Zone)
	if err != nil {
		t.Fatal(err)
	}
	for i := range cfg.Week {
		cfg.Week[i] = genHours(t, time.Weekday(i).String())
	}
	if cfg.Week[time.Monday] == nil {
		cfg.Week[time.Monday] = businesstime.MustParseHours("09:00-17:00")
	}
	year := rapid.IntRange(2005, 2035).Draw(t, "year")
	at := time.Date(year, time.January, 1, 0, 0, 0, 0, loc).Add(time.Duration(rapid.Int64Range(0, 365*24*60).Draw(t, "minute")) * time.Minute)
	if changes := offsetChanges(loc, year); len(changes) > 0 && rapid.Bool().Draw(t, "near a change") {
		at = rapid.SampledFrom(changes).Draw(t, "change").Add(time.Duration(rapid.IntRange(-36*60, 36*60).Draw(t, "minutes from it")) * time.Minute)
	}
	if rapid.Bool().Draw(t, "off the minute") {
		at = at.Add(time.Duration(rapid.Int64Range(1, int64(time.Minute)-1).Draw(t, "nanoseconds")))
	}
	used := map[businesstime.Date]bool{}
	for i := range rapid.IntRange(0, 3).Draw(t, "holidays") {
		d := businesstime.DateOf(at.In(loc)).AddDays(rapid.IntRange(-2, 20).Draw(t, "holiday day"))
		if !used[d] {
			used[d] = true
			cfg.Holidays = append(cfg.Holidays, businesstime.Holiday{Date: d, Name: "h", Yearly: i == 0 && rapid.Bool().Draw(t, "yearly")})
		}
	}
	for range rapid.IntRange(0, 2).Draw(t, "exceptions") {
		d := businesstime.DateOf(at.In(loc)).AddDays(rapid.IntRange(-2, 20).Draw(t, "exception day"))
		if !used[d] {
			used[d] = true
			cfg.Exceptions = append(cfg.Exceptions, businesstime.Exception{Date: d, Name: "e", Hours: genHours(t, "exception")})
		}
	}
	c, err := businesstime.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	return cfg, c, at
}

// offsetChanges lists the instants at which loc's offset changes in year.
func offsetChanges(loc *time.Location, year int) []time.Time {
	var out []time.Time
	t := time.Date(year, time.January, 1, 0, 0, 0, 0, loc)
	stop := time.Date(year+1, time.January, 1, 0, 0, 0, 0, loc)
	for t.Before(stop) {
		_, end := t.ZoneBounds()
		if end.IsZero() || !end.Before(stop) {
			break
		}
		out = append(out, end)
		t = end
	}
	return out
}

// TestPropertyAddThenMeasure: adding business time then measuring it is the
// identity, Add gives the earliest such instant, and Between adds up.
func TestPropertyAddThenMeasure(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		_, c, at := genCase(t)
		d := time.Duration(rapid.Int64Range(0, int64(3*365*24*time.Hour)).Draw(t, "duration"))
		if rapid.Bool().Draw(t, "short") {
			d = time.Duration(rapid.Int64Range(0, int64(72*time.Hour)).Draw(t, "short duration"))
		}
		u := c.Add(at, d)
		if got := c.Between(at, u); got != d {
			t.Fatalf("Between(%v, Add(…, %v) = %v) = %v", at, d, u, got)
		}
		if u.Before(at) {
			t.Fatalf("Add went back: %v before %v", u, at)
		}
		if d > 0 && c.Between(at, u.Add(-1)) >= d {
			t.Fatalf("Add(%v, %v) = %v is not the earliest", at, d, u)
		}
		mid := at.Add(time.Duration(rapid.Int64Range(0, int64(u.Sub(at))).Draw(t, "between")))
		if a, b := c.Between(at, mid), c.Between(mid, u); a+b != d {
			t.Fatalf("Between splits %v into %v + %v", d, a, b)
		}
		next := c.NextOpen(at)
		if !c.IsOpen(next) || c.Between(at, next) != 0 || next.Before(at) {
			t.Fatalf("NextOpen(%v) = %v: open %v, business time before it %v", at, next, c.IsOpen(next), c.Between(at, next))
		}
	})
}

// reference computes what a calendar says the slow way, straight from the
// rule in the package doc: a span runs from the first instant at which the
// clock reads its start or later to the first at which it reads its end
// or later; instants are scanned minute by minute.
type reference struct {
	cfg    businesstime.Config
	loc    *time.Location
	bounds map[int64]int64
}

func (r *reference) hours(d businesstime.Date) businesstime.Hours {
	for _, e := range r.cfg.Exceptions {
		if e.Date == d {
			return e.Hours
		}
	}
	for _, h := range r.cfg.Holidays {
		if h.Date == d || (h.Yearly && h.Date.Month == d.Month && h.Date.Day == d.Day && d.Year >= h.Date.Year) {
			return nil
		}
	}
	return r.cfg.Week[d.Weekday()]
}

// clock returns the first minute at which the clock reads wall or later.
func (r *reference) clock(wall time.Time) time.Time {
	if at, ok := r.bounds[wall.Unix()]; ok {
		return time.Unix(at, 0)
	}
	for at := wall.Add(-26 * time.Hour); ; at = at.Add(time.Minute) {
		l := at.In(r.loc)
		reading := time.Date(l.Year(), l.Month(), l.Day(), l.Hour(), l.Minute(), 0, 0, time.UTC)
		if !reading.Before(wall) {
			r.bounds[wall.Unix()] = at.Unix()
			return at
		}
	}
}

func (r *reference) open(at time.Time) bool {
	d := businesstime.DateOf(at.In(r.loc))
	for _, day := range []businesstime.Date{d.AddDays(-1), d, d.AddDays(1)} {
		midnight := time.Date(day.Year, day.Month, day.Day, 0, 0, 0, 0, time.UTC)
		for _, s := range r.hours(day) {
			if !at.Before(r.clock(midnight.Add(s.From.Duration()))) && at.Before(r.clock(midnight.Add(s.To.Duration()))) {
				return true
			}
		}
	}
	return false
}

// TestPropertyAgainstReference compares the fast arithmetic with the
// minute-by-minute reference over windows of up to three days, most of
// them around a daylight-saving change.
func TestPropertyAgainstReference(t *testing.T) {
	rapid.Check(t, func(t *rapid.T) {
		cfg, c, at := genCase(t)
		at = at.Truncate(time.Minute)
		ref := &reference{cfg: cfg, loc: c.Location(), bounds: map[int64]int64{}}
		minutes := rapid.IntRange(0, 3*24*60).Draw(t, "window")
		var want time.Duration
		firstOpen := time.Time{}
		for m := range minutes {
			x := at.Add(time.Duration(m) * time.Minute)
			open := ref.open(x)
			if open {
				want += time.Minute
				if firstOpen.IsZero() {
					firstOpen = x
				}
			}
			if m%97 == 0 && c.IsOpen(x) != open {
				t.Fatalf("IsOpen(%v) = %v, the reference says %v", x, !open, open)
			}
		}
		end := at.Add(time.Duration(minutes) * time.Minute)
		if got := c.Between(at, end); got != want {
			t.Fatalf("Between(%v, %v) = %v, the reference counts %v", at, end, got, want)
		}
		if !firstOpen.IsZero() && !c.NextOpen(at).Equal(firstOpen) {
			t.Fatalf("NextOpen(%v) = %v, the reference finds %v", at, c.NextOpen(at), firstOpen)
		}
		if want > 0 {
			if got := c.Add(at, want); got.After(end) || c.Between(at, got) != want {
				t.Fatalf("Add(%v, %v) = %v, past the window's end %v", at, want, got, end)
			}
		}
	})
}
