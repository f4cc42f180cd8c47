package businesstime

import (
	"math"
	"time"
)

// Interval is a period of open time: from Start up to End (excluded).
type Interval struct {
	Start, End time.Time
}

// Duration returns the interval's length.
func (i Interval) Duration() time.Duration { return i.End.Sub(i.Start) }

// Day is what a calendar says of one date.
type Day struct {
	Date Date
	// Name is the holiday's or the exception's name ("" on an ordinary
	// day).
	Name string
	// Open holds the day's open intervals, in the calendar's zone; none
	// when closed. A span that falls wholly in a daylight-saving gap has
	// no interval.
	Open []Interval
}

// Duration returns the business time of the day.
func (d Day) Duration() time.Duration {
	var sum time.Duration
	for _, i := range d.Open {
		sum += i.Duration()
	}
	return sum
}

// Day returns the open intervals of date d and the name of its holiday or
// exception.
func (c *Calendar) Day(d Date) Day {
	n := d.number()
	day := c.day(n)
	_, name := c.hours(n)
	out := Day{Date: d, Name: name}
	for _, s := range day.hours {
		start, end := c.bound(&day, s.From), c.bound(&day, s.To)
		if end > start {
			out.Open = append(out.Open, Interval{time.Unix(start, 0).In(c.loc), time.Unix(end, 0).In(c.loc)})
		}
	}
	return out
}

// Add returns the instant at which d of business time has elapsed since t:
// the earliest instant u with Between(t, u) == d. So a deadline that uses
// up the day's last minutes falls at the closing time, not at the next
// opening. When t is closed the count starts at the next opening. A d of
// zero or less returns t. The result is in t's location.
func (c *Calendar) Add(t time.Time, d time.Duration) time.Time {
	u, _ := c.add(t, d)
	return u
}

// add is Add, also returning how many days it looked at: what its cost
// follows.
func (c *Calendar) add(t time.Time, d time.Duration) (time.Time, int) {
	if d <= 0 {
		return t, 0
	}
	looked := 0
	rem := d
	special := int64(math.MinInt64) // the next special day, once looked up
	// The walk starts a day early: where a zone's clock goes back across
	// midnight, an instant dated one day on the clock can lie after the
	// next day's start.
	for n := c.dayNumber(t) - 1; ; n++ {
		day := c.day(n)
		looked++
		if k, sum := c.skip(&day, &special, t, math.MaxInt64, rem-1); k > 0 {
			rem -= sum
			n += k - 1
			continue
		}
		for _, s := range day.hours {
			end := time.Unix(c.bound(&day, s.To), 0)
			if !end.After(t) {
				continue
			}
			start := time.Unix(c.bound(&day, s.From), 0)
			if start.Before(t) {
				start = t
			}
			if avail := end.Sub(start); avail < rem {
				rem -= avail
				continue
			}
			return start.Add(rem).In(t.Location()), looked
		}
	}
}

// Between returns the business time from a up to b: the open time in
// [a, b). It is negative when b is before a.
func (c *Calendar) Between(a, b time.Time) time.Duration {
	if b.Before(a) {
		d, _ := c.between(b, a)
		return -d
	}
	d, _ := c.between(a, b)
	return d
}

// between is Between for a <= b, also returning how many days it looked
// at.
func (c *Calendar) between(a, b time.Time) (time.Duration, int) {
	var sum time.Duration
	looked := 0
	special := int64(math.MinInt64)
	for n := c.dayNumber(a) - 1; ; n++ {
		day := c.day(n)
		looked++
		dayStart := time.Unix(day.start, 0)
		if !dayStart.Before(b) {
			return sum, looked
		}
		if k, skipped := c.skip(&day, &special, a, int64(b.Sub(dayStart)/(24*time.Hour)), math.MaxInt64); k > 0 {
			sum += skipped
			n += k - 1
			continue
		}
		for _, s := range day.hours {
			start := time.Unix(c.bound(&day, s.From), 0)
			end := time.Unix(c.bound(&day, s.To), 0)
			if start.Before(a) {
				start = a
			}
			if end.After(b) {
				end = b
			}
			if end.After(start) {
				sum += end.Sub(start)
			}
		}
	}
}

// IsOpen reports whether t lies in open time.
func (c *Calendar) IsOpen(t time.Time) bool {
	n := c.dayNumber(t)
	for m := n - 1; m <= n+1; m++ {
		day := c.day(m)
		for _, s := range day.hours {
			start := time.Unix(c.bound(&day, s.From), 0)
			end := time.Unix(c.bound(&day, s.To), 0)
			if !t.Before(start) && t.Before(end) {
				return true
			}
		}
	}
	return false
}

// NextOpen returns t when it is open, otherwise the next instant that is,
// in t's location.
func (c *Calendar) NextOpen(t time.Time) time.Time {
	for n := c.dayNumber(t) - 1; ; n++ {
		day := c.day(n)
		for _, s := range day.hours {
			start := time.Unix(c.bound(&day, s.From), 0)
			end := time.Unix(c.bound(&day, s.To), 0)
			if !end.After(t) || !end.After(start) {
				continue
			}
			if start.Before(t) {
				return t
			}
			return start.In(t.Location())
		}
	}
}

// dayNumber returns the number of t's date on the calendar's clock.
func (c *Calendar) dayNumber(t time.Time) int64 {
	_, off := t.In(c.loc).Zone()
	return floorDiv(t.Unix()+int64(off), secondsPerDay)
}

// day is one day of the walk.
type day struct {
	n     int64
	wall  int64 // the clock reading of the day's midnight, in seconds since 1970-01-01
	start int64 // the day's first instant, in Unix seconds
	// uniform: the zone's offset is the same all day long and the clock
	// reads 00:00 at start, so the clock reads wall+s at start+s.
	uniform bool
	// until is the end of the period of the start's offset
	// (math.MaxInt64 when it never ends).
	until int64
	hours Hours
}

func (c *Calendar) day(n int64) day {
	wall := n * secondsPerDay
	start, offset, until := c.clockInstant(wall)
	hours, _ := c.hours(n)
	return day{
		n: n, wall: wall, start: start, until: until, hours: hours,
		uniform: start == wall-offset && until > start+secondsPerDay,
	}
}

// bound returns the first instant (Unix seconds) at which the clock reads
// the day's time of day tod or later.
func (c *Calendar) bound(d *day, tod TimeOfDay) int64 {
	s := int64(tod) * 60
	if d.uniform {
		return d.start + s
	}
	at, _, _ := c.clockInstant(d.wall + s)
	return at
}

// maxOffset is beyond any zone's offset from UTC (all lie within ±16
// hours, old local mean times included): the search for a clock reading
// starts that far before it.
const maxOffset = 26 * 60 * 60

// clockInstant returns the first instant (Unix seconds) at which the
// calendar's clock reads wall (seconds since 1970-01-01 00:00 on the
// clock face) or later; with the offset in effect then and the end of
// that offset's period (math.MaxInt64 when it never ends). In a period of
// offset o, the clock reads wall or later from wall-o on: the first
// period in which that instant comes before its end holds the answer.
func (c *Calendar) clockInstant(wall int64) (at, offset, until int64) {
	x := wall - maxOffset
	for {
		t := time.Unix(x, 0).In(c.loc)
		_, off := t.Zone()
		_, end := t.ZoneBounds()
		until = math.MaxInt64
		if !end.IsZero() {
			until = end.Unix()
		}
		at = max(x, wall-int64(off))
		if at < until || until <= x {
			return at, int64(off), until
		}
		x = until
	}
}

// skip returns how many whole days from the day's start the week template
// can count at once, at most maxDays of them and at most budget of business
// time, and their business time. The day must start at or after from, and
// the days must hold neither a change of the zone's offset nor a holiday
// or an exception. *special caches the next special day from one call to
// the next of a walk.
func (c *Calendar) skip(d *day, special *int64, from time.Time, maxDays int64, budget time.Duration) (int64, time.Duration) {
	if maxDays <= 0 || budget <= 0 || !d.uniform || c.walkOnly || time.Unix(d.start, 0).Before(from) {
		return 0, 0
	}
	if d.until != math.MaxInt64 {
		maxDays = min(maxDays, (d.until-d.start-1)/secondsPerDay)
	}
	if maxDays <= 0 {
		return 0, 0
	}
	if *special < d.n {
		*special = c.nextSpecial(d.n)
	}
	maxDays = min(maxDays, *special-d.n)
	w := weekday(d.n)
	weeks := min(maxDays/7, int64(budget/c.weekTotal))
	k, sum := 7*weeks, time.Duration(weeks)*c.weekTotal
	for r := 1; r < 7 && k+1 <= maxDays; r++ {
		next := time.Duration(weeks)*c.weekTotal + c.ahead[w][r]
		if next > budget {
			break
		}
		k, sum = k+1, next
	}
	return k, sum
}
