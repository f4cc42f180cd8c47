package businesstime

import (
	"fmt"
	"math"
	"slices"
	"time"
)

// Week holds the opening hours of each day of the week, indexed by
// time.Weekday: Week{time.Monday: hours, ...}.
type Week [7]Hours

// Holiday closes a date. A yearly holiday closes the same month and day in
// Date's year and every later year (February 29 only in leap years).
type Holiday struct {
	Date   Date
	Name   string
	Yearly bool
}

// Exception gives a date other hours than its weekday's: a Saturday opened,
// a day closing early. Empty Hours close the date. An exception wins over a
// yearly holiday on the same date (the one year a shop opens on Boxing
// Day); a dated holiday on the same date is refused as contradictory.
type Exception struct {
	Date  Date
	Name  string
	Hours Hours
}

// Config describes a business calendar: data a host gives, as JSON or in
// code.
type Config struct {
	// Name identifies the calendar (service-level policies refer to it).
	Name string
	// Zone is an IANA time zone name, "Europe/Paris": every time of day and
	// date of the calendar is read on that zone's clock.
	Zone       string
	Week       Week
	Holidays   []Holiday
	Exceptions []Exception
}

// Calendar is a validated Config, ready for arithmetic. It is immutable
// and safe for concurrent use.
type Calendar struct {
	name      string
	loc       *time.Location
	week      Week
	weekTotal time.Duration
	// ahead[w][k] is the business time of the k days from a weekday w on,
	// where nothing special happens: the week template the arithmetic
	// counts whole stretches of days with.
	ahead [7][8]time.Duration

	special map[int64]special // dated holidays and exceptions, by day number
	dates   []int64           // their day numbers, sorted
	yearly  []yearly          // in calendar order
	byDate  [13][32]uint16    // month, day → 1 + index in yearly

	walkOnly bool // the benchmarks' baseline: look at every day
}

type yearly struct {
	month time.Month
	day   int
	special
}

// special is a day whose hours are not its weekday's.
type special struct {
	name  string
	hours Hours // nil: closed
	from  int   // a yearly holiday's first year
}

// New validates cfg and builds its calendar. It copies what it keeps, so
// cfg may change afterwards.
// Errors: ErrInvalidZone, ErrInvalidHours, ErrInvalidDate, ErrDuplicateDate,
// ErrNoBusinessHours.
func New(cfg Config) (*Calendar, error) {
	if cfg.Zone == "" || cfg.Zone == "Local" {
		return nil, fmt.Errorf("calendar %q: zone %q: an IANA zone name is required: %w", cfg.Name, cfg.Zone, ErrInvalidZone)
	}
	loc, err := time.LoadLocation(cfg.Zone)
	if err != nil {
		return nil, fmt.Errorf("calendar %q: zone %q: %w: %v", cfg.Name, cfg.Zone, ErrInvalidZone, err)
	}
	c := &Calendar{name: cfg.Name, loc: loc, special: map[int64]special{}}
	for wd, h := range cfg.Week {
		if err := h.Validate(); err != nil {
			return nil, fmt.Errorf("calendar %q: %v: %w", cfg.Name, time.Weekday(wd), err)
		}
		c.week[wd] = slices.Clone(h)
		c.weekTotal += h.Duration()
	}
	for w := range c.ahead {
		for k := 1; k <= 7; k++ {
			c.ahead[w][k] = c.ahead[w][k-1] + c.week[(w+k-1)%7].Duration()
		}
	}
	if c.weekTotal == 0 {
		return nil, fmt.Errorf("calendar %q: the week has no opening hours: %w", cfg.Name, ErrNoBusinessHours)
	}
	for _, h := range cfg.Holidays {
		if !h.Date.Valid() {
			return nil, fmt.Errorf("calendar %q: holiday %q: %v: %w", cfg.Name, h.Name, h.Date, ErrInvalidDate)
		}
		if h.Yearly {
			if c.byDate[h.Date.Month][h.Date.Day] != 0 {
				return nil, fmt.Errorf("calendar %q: yearly holiday %q on %v: %w", cfg.Name, h.Name, h.Date, ErrDuplicateDate)
			}
			c.byDate[h.Date.Month][h.Date.Day] = 1 // marks it; indexed below
			c.yearly = append(c.yearly, yearly{h.Date.Month, h.Date.Day, special{name: h.Name, from: h.Date.Year}})
			continue
		}
		n := h.Date.number()
		if _, dup := c.special[n]; dup {
			return nil, fmt.Errorf("calendar %q: holiday %q on %v: %w", cfg.Name, h.Name, h.Date, ErrDuplicateDate)
		}
		c.special[n] = special{name: h.Name}
	}
	for _, e := range cfg.Exceptions {
		if !e.Date.Valid() {
			return nil, fmt.Errorf("calendar %q: exception %q: %v: %w", cfg.Name, e.Name, e.Date, ErrInvalidDate)
		}
		if err := e.Hours.Validate(); err != nil {
			return nil, fmt.Errorf("calendar %q: exception %q on %v: %w", cfg.Name, e.Name, e.Date, err)
		}
		n := e.Date.number()
		if _, dup := c.special[n]; dup {
			return nil, fmt.Errorf("calendar %q: exception %q on %v: %w", cfg.Name, e.Name, e.Date, ErrDuplicateDate)
		}
		c.special[n] = special{name: e.Name, hours: slices.Clone(e.Hours)}
	}
	for n := range c.special {
		c.dates = append(c.dates, n)
	}
	slices.Sort(c.dates)
	slices.SortFunc(c.yearly, func(a, b yearly) int { return int(a.month)*32 + a.day - int(b.month)*32 - b.day })
	for i, y := range c.yearly {
		c.byDate[y.month][y.day] = uint16(i + 1)
	}
	return c, nil
}

// Name returns the calendar's name.
func (c *Calendar) Name() string { return c.name }

// Location returns the calendar's time zone.
func (c *Calendar) Location() *time.Location { return c.loc }

// hours returns the opening hours of day n and the name of its holiday or
// exception ("" on an ordinary day).
func (c *Calendar) hours(n int64) (Hours, string) {
	if s, ok := c.special[n]; ok {
		return s.hours, s.name
	}
	if len(c.yearly) > 0 {
		d := dateOf(n)
		if i := c.byDate[d.Month][d.Day]; i > 0 && d.Year >= c.yearly[i-1].from {
			return nil, c.yearly[i-1].name
		}
	}
	return c.week[weekday(n)], ""
}

// nextSpecial returns the first day from n on that is a holiday or an
// exception, or math.MaxInt64 when none comes.
func (c *Calendar) nextSpecial(n int64) int64 {
	next := int64(math.MaxInt64)
	if i, _ := slices.BinarySearch(c.dates, n); i < len(c.dates) {
		next = c.dates[i]
	}
	if len(c.yearly) == 0 {
		return next
	}
	d := dateOf(n)
	for _, md := range c.yearly {
		y := max(d.Year, md.from)
		if y == d.Year && (md.month < d.Month || md.month == d.Month && md.day < d.Day) {
			y++ // this year's is past
		}
		for md.month == time.February && md.day == 29 && !leap(y) {
			y++
		}
		next = min(next, Date{y, md.month, md.day}.number())
	}
	return next
}

func leap(y int) bool { return y%4 == 0 && (y%100 != 0 || y%400 == 0) }
