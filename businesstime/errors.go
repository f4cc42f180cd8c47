package businesstime

import "errors"

// Sentinel errors, matched with errors.Is. New wraps them with what was
// refused and where.
var (
	// ErrInvalidZone reports a zone name time.LoadLocation does not know,
	// an empty one or "Local" (which would depend on the host).
	ErrInvalidZone = errors.New("invalid time zone")
	// ErrInvalidHours reports a malformed time of day or span, a span that
	// ends before it starts or outside 00:00-24:00, or spans of one day
	// that overlap or are out of order.
	ErrInvalidHours = errors.New("invalid hours")
	// ErrInvalidDate reports a malformed date or one that does not exist
	// (2027-02-29).
	ErrInvalidDate = errors.New("invalid date")
	// ErrDuplicateDate reports a date given twice: two holidays or two
	// exceptions on one date, or a holiday and an exception on one date.
	ErrDuplicateDate = errors.New("duplicate date")
	// ErrNoBusinessHours reports a week without any opening hours: business
	// time could never elapse.
	ErrNoBusinessHours = errors.New("no business hours")
)
