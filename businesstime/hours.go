package businesstime

import (
	"fmt"
	"strings"
	"time"
)

// TimeOfDay is a reading of a clock face, in minutes after midnight: from
// 00:00 (0) to 24:00 (EndOfDay), the end of the day.
type TimeOfDay int

// EndOfDay is 24:00, the end of a day: a span may end there.
const EndOfDay TimeOfDay = 24 * 60

// At returns the time of day hour:minute.
func At(hour, minute int) TimeOfDay { return TimeOfDay(hour*60 + minute) }

// Valid reports whether t is within 00:00-24:00.
func (t TimeOfDay) Valid() bool { return t >= 0 && t <= EndOfDay }

// Duration returns the time elapsed on the clock face since midnight.
func (t TimeOfDay) Duration() time.Duration { return time.Duration(t) * time.Minute }

// String returns t as "HH:MM"; a value out of range is shown as such.
func (t TimeOfDay) String() string {
	if !t.Valid() {
		return fmt.Sprintf("TimeOfDay(%d)", int(t))
	}
	return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60)
}

// ParseTimeOfDay reads "HH:MM" or "H:MM", from 00:00 to 24:00.
// Errors: ErrInvalidHours.
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	h, m, ok := strings.Cut(s, ":")
	if !ok || len(h) < 1 || len(h) > 2 || len(m) != 2 {
		return 0, fmt.Errorf("time of day %q is not HH:MM: %w", s, ErrInvalidHours)
	}
	hour, okh := digits(h)
	minute, okm := digits(m)
	if !okh || !okm || hour > 24 || minute > 59 || (hour == 24 && minute != 0) {
		return 0, fmt.Errorf("time of day %q is not within 00:00-24:00: %w", s, ErrInvalidHours)
	}
	return At(hour, minute), nil
}

// digits reads a short run of ASCII digits (strconv would take signs).
func digits(s string) (int, bool) {
	n := 0
	for _, c := range []byte(s) {
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

// MarshalText returns t as "HH:MM". Errors: ErrInvalidHours.
func (t TimeOfDay) MarshalText() ([]byte, error) {
	if !t.Valid() {
		return nil, fmt.Errorf("time of day %d minutes: %w", int(t), ErrInvalidHours)
	}
	return []byte(t.String()), nil
}

// UnmarshalText reads "HH:MM". Errors: ErrInvalidHours.
func (t *TimeOfDay) UnmarshalText(b []byte) error {
	v, err := ParseTimeOfDay(string(b))
	if err != nil {
		return err
	}
	*t = v
	return nil
}

// Span is a period of a day on the clock face: open from From up to To
// (excluded).
type Span struct {
	From, To TimeOfDay
}

// Valid reports whether s starts before it ends, within 00:00-24:00.
func (s Span) Valid() bool { return s.From.Valid() && s.To.Valid() && s.From < s.To }

// Duration returns the span's length on the clock face.
func (s Span) Duration() time.Duration { return (s.To - s.From).Duration() }

// String returns s as "HH:MM-HH:MM".
func (s Span) String() string { return s.From.String() + "-" + s.To.String() }

// ParseSpan reads "HH:MM-HH:MM". Errors: ErrInvalidHours.
func ParseSpan(str string) (Span, error) {
	from, to, ok := strings.Cut(strings.TrimSpace(str), "-")
	if !ok {
		return Span{}, fmt.Errorf("span %q is not HH:MM-HH:MM: %w", str, ErrInvalidHours)
	}
	var s Span
	var err error
	if s.From, err = ParseTimeOfDay(strings.TrimSpace(from)); err != nil {
		return Span{}, err
	}
	if s.To, err = ParseTimeOfDay(strings.TrimSpace(to)); err != nil {
		return Span{}, err
	}
	if !s.Valid() {
		return Span{}, fmt.Errorf("span %q ends before it starts: %w", str, ErrInvalidHours)
	}
	return s, nil
}

// MarshalText returns s as "HH:MM-HH:MM". Errors: ErrInvalidHours.
func (s Span) MarshalText() ([]byte, error) {
	if !s.Valid() {
		return nil, fmt.Errorf("span %v: %w", s, ErrInvalidHours)
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads "HH:MM-HH:MM". Errors: ErrInvalidHours.
func (s *Span) UnmarshalText(b []byte) error {
	v, err := ParseSpan(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Hours are the opening hours of a day: spans in order, none overlapping.
// Empty hours mean closed.
type Hours []Span

// ParseHours reads spans separated by commas, such as
// "09:00-12:30, 13:30-18:00"; an empty string means closed.
// Errors: ErrInvalidHours.
func ParseHours(s string) (Hours, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	parts := strings.Split(s, ",")
	h := make(Hours, 0, len(parts))
	for _, p := range parts {
		span, err := ParseSpan(p)
		if err != nil {
			return nil, err
		}
		h = append(h, span)
	}
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return h, nil
}

// MustParseHours is ParseHours for hours written in the program: it panics
// on an error.
func MustParseHours(s string) Hours {
	h, err := ParseHours(s)
	if err != nil {
		panic(err)
	}
	return h
}

// Validate checks that every span is valid and that they come in order
// without overlapping (one may end where the next starts).
// Errors: ErrInvalidHours.
func (h Hours) Validate() error {
	for i, s := range h {
		if !s.Valid() {
			return fmt.Errorf("span %v: %w", s, ErrInvalidHours)
		}
		if i > 0 && s.From < h[i-1].To {
			return fmt.Errorf("span %v overlaps or comes before %v: %w", s, h[i-1], ErrInvalidHours)
		}
	}
	return nil
}

// Duration returns the hours' total length on the clock face.
func (h Hours) Duration() time.Duration {
	var d time.Duration
	for _, s := range h {
		d += s.Duration()
	}
	return d
}

// String returns the spans separated by ", "; "" when closed.
func (h Hours) String() string {
	parts := make([]string, len(h))
	for i, s := range h {
		parts[i] = s.String()
	}
	return strings.Join(parts, ", ")
}

// MarshalText returns the hours as ParseHours reads them.
// Errors: ErrInvalidHours.
func (h Hours) MarshalText() ([]byte, error) {
	if err := h.Validate(); err != nil {
		return nil, err
	}
	return []byte(h.String()), nil
}

// UnmarshalText reads hours as ParseHours does. Errors: ErrInvalidHours.
func (h *Hours) UnmarshalText(b []byte) error {
	v, err := ParseHours(string(b))
	if err != nil {
		return err
	}
	*h = v
	return nil
}
