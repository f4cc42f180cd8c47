package businesstime

import (
	"fmt"
	"time"
)

// Date is a day of the calendar, as written on it: no zone, no time.
type Date struct {
	Year  int
	Month time.Month
	Day   int
}

// DateOf returns the date of t in t's location.
func DateOf(t time.Time) Date {
	y, m, d := t.Date()
	return Date{y, m, d}
}

// Valid reports whether d exists (February 29 only in leap years).
func (d Date) Valid() bool {
	if d.Month < time.January || d.Month > time.December || d.Day < 1 || d.Day > 31 {
		return false
	}
	y, m, dd := time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Date()
	return y == d.Year && m == d.Month && dd == d.Day
}

// Weekday returns the day of the week of d.
func (d Date) Weekday() time.Weekday { return weekday(d.number()) }

// AddDays returns the date n days after d (before it when n is negative).
func (d Date) AddDays(n int) Date { return dateOf(d.number() + int64(n)) }

// String returns d as "YYYY-MM-DD".
func (d Date) String() string { return fmt.Sprintf("%04d-%02d-%02d", d.Year, int(d.Month), d.Day) }

// ParseDate reads "YYYY-MM-DD". Errors: ErrInvalidDate.
func ParseDate(s string) (Date, error) {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return Date{}, fmt.Errorf("date %q is not YYYY-MM-DD: %w", s, ErrInvalidDate)
	}
	y, oky := digits(s[:4])
	m, okm := digits(s[5:7])
	dd, okd := digits(s[8:])
	d := Date{y, time.Month(m), dd}
	if !oky || !okm || !okd || !d.Valid() {
		return Date{}, fmt.Errorf("date %q does not exist: %w", s, ErrInvalidDate)
	}
	return d, nil
}

// MarshalText returns d as "YYYY-MM-DD". Errors: ErrInvalidDate.
func (d Date) MarshalText() ([]byte, error) {
	if !d.Valid() || d.Year < 0 || d.Year > 9999 {
		return nil, fmt.Errorf("date %v: %w", d, ErrInvalidDate)
	}
	return []byte(d.String()), nil
}

// UnmarshalText reads "YYYY-MM-DD". Errors: ErrInvalidDate.
func (d *Date) UnmarshalText(b []byte) error {
	v, err := ParseDate(string(b))
	if err != nil {
		return err
	}
	*d = v
	return nil
}

// Days are numbered from 1970-01-01 (day 0) on a proleptic Gregorian
// calendar: the arithmetic walks them as integers.
const secondsPerDay = 24 * 60 * 60

func (d Date) number() int64 {
	return floorDiv(time.Date(d.Year, d.Month, d.Day, 0, 0, 0, 0, time.UTC).Unix(), secondsPerDay)
}

func dateOf(n int64) Date {
	y, m, d := time.Unix(n*secondsPerDay, 0).UTC().Date()
	return Date{y, m, d}
}

func weekday(n int64) time.Weekday {
	return time.Weekday(floorMod(n+int64(time.Thursday), 7)) // 1970-01-01 was a Thursday
}

func floorDiv(a, b int64) int64 {
	q := a / b
	if a%b != 0 && (a < 0) != (b < 0) {
		q--
	}
	return q
}

func floorMod(a, b int64) int64 { return a - floorDiv(a, b)*b }
