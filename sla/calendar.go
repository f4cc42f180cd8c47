package sla

import "time"

// Calendar counts business time. *businesstime.Calendar is one; a host may
// give its own.
type Calendar interface {
	// Add returns the earliest instant at which d of business time has
	// elapsed since t (t itself when d <= 0).
	Add(t time.Time, d time.Duration) time.Time
	// Between returns the business time from a up to b.
	Between(a, b time.Time) time.Duration
}

// Calendars maps calendar names to calendars, for targets to name.
type Calendars map[string]Calendar

// wallClock counts every instant: the calendar of a target that names
// none.
type wallClock struct{}

func (wallClock) Add(t time.Time, d time.Duration) time.Time {
	if d <= 0 {
		return t
	}
	return t.Add(d)
}

func (wallClock) Between(a, b time.Time) time.Duration { return b.Sub(a) }
