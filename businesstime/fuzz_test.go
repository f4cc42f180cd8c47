package businesstime_test

import (
	"testing"
	"time"

	"github.com/emailflow/emailflow/businesstime"
)

// FuzzArithmetic builds a calendar from the fuzzer's bits (a zone, one span
// per weekday, a holiday) and checks Add against Between.
func FuzzArithmetic(f *testing.F) {
	f.Add(uint8(1), uint64(0x0000_3a3a_3a3a_3a00), int64(29_560_000), int64(4*60*60), uint16(10))
	f.Add(uint8(5), uint64(0xffff_ffff_ffff_ffff), int64(21_000_000), int64(10*365*24*60*60), uint16(0))
	f.Add(uint8(10), uint64(0x0101_0101_0101_0101), int64(22_000_000), int64(1), uint16(400))
	f.Fuzz(func(t *testing.T, zoneIndex uint8, weekBits uint64, minute int64, seconds int64, holiday uint16) {
		cfg := businesstime.Config{Zone: propertyZones[int(zoneIndex)%len(propertyZones)]}
		for i := range cfg.Week {
			b := int(weekBits >> (8 * i) & 0xff)
			if b == 0 {
				continue
			}
			from := (b % 48) * 30
			cfg.Week[i] = businesstime.Hours{{From: businesstime.TimeOfDay(from), To: businesstime.TimeOfDay(min(from+(b/48+1)*90, 24*60))}}
		}
		// From 1990 to 2100, up to 20 years ahead.
		at := time.Unix(631_152_000+(minute%(110*365*24*60)+110*365*24*60)%(110*365*24*60)*60, 0)
		d := time.Duration(seconds%(20*365*24*60*60)) * time.Second
		if holiday > 0 {
			cfg.Holidays = []businesstime.Holiday{{Date: businesstime.DateOf(at).AddDays(int(holiday % 30)), Yearly: holiday%2 == 0}}
		}
		c, err := businesstime.New(cfg)
		if err != nil {
			return // a week without hours
		}
		u := c.Add(at, d)
		want := max(d, 0)
		if got := c.Between(at, u); got != want {
			t.Fatalf("Between(%v, Add(…, %v) = %v) = %v", at, d, u, got)
		}
		if want > 0 && c.Between(at, u.Add(-1)) >= want {
			t.Fatalf("Add(%v, %v) = %v is not the earliest", at, d, u)
		}
		if next := c.NextOpen(at); !c.IsOpen(next) || c.Between(at, next) != 0 {
			t.Fatalf("NextOpen(%v) = %v is closed or not next", at, next)
		}
	})
}

// FuzzParseHours: whatever ParseHours accepts is valid and reads back the
// same from its own text.
func FuzzParseHours(f *testing.F) {
	for _, s := range []string{"", "09:00-12:30, 13:30-18:00", "0:00-24:00", "24:00-24:00", "9:5-10:00", "12:00-11:00", "08:00-09:00,08:30-10:00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		h, err := businesstime.ParseHours(s)
		if err != nil {
			return
		}
		if err := h.Validate(); err != nil {
			t.Fatalf("ParseHours(%q) gave invalid hours: %v", s, err)
		}
		text, err := h.MarshalText()
		if err != nil {
			t.Fatalf("MarshalText of %q: %v", s, err)
		}
		var again businesstime.Hours
		if err := again.UnmarshalText(text); err != nil || again.String() != h.String() {
			t.Fatalf("%q read as %q, then as %q (%v)", s, text, again, err)
		}
	})
}

// FuzzParseDate: whatever ParseDate accepts is a date that exists and
// prints back as given.
func FuzzParseDate(f *testing.F) {
	for _, s := range []string{"2026-12-25", "2028-02-29", "2027-02-29", "0000-01-01", "9999-12-31", "2026-1-01"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		d, err := businesstime.ParseDate(s)
		if err != nil {
			return
		}
		if !d.Valid() || d.String() != s {
			t.Fatalf("ParseDate(%q) = %v (valid %v)", s, d, d.Valid())
		}
		if d.AddDays(1).AddDays(-1) != d {
			t.Fatalf("%v: a day on and back is %v", d, d.AddDays(1).AddDays(-1))
		}
	})
}
