package businesstime_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/businesstime"
)

// TestAdd: each case adds business time to an instant, then measures it
// back: Between(from, want) must be the duration added.
func TestAdd(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	kolkata := zone(t, "Asia/Kolkata")
	kathmandu := zone(t, "Asia/Kathmandu")
	pOffice := parisOffice(t)
	india := build(t, businesstime.Config{
		Name: "bangalore",
		Zone: "Asia/Kolkata",
		Week: businesstime.Week{time.Monday: businesstime.MustParseHours("09:30-18:00"), time.Tuesday: businesstime.MustParseHours("09:30-18:00"),
			time.Wednesday: businesstime.MustParseHours("09:30-18:00"), time.Thursday: businesstime.MustParseHours("09:30-18:00"), time.Friday: businesstime.MustParseHours("09:30-18:00")},
	})
	nepalHours := businesstime.MustParseHours("10:00-17:00")
	nepal := build(t, businesstime.Config{
		Name: "kathmandu", // Sunday to Friday
		Zone: "Asia/Kathmandu",
		Week: businesstime.Week{time.Sunday: nepalHours, time.Monday: nepalHours, time.Tuesday: nepalHours, time.Wednesday: nepalHours, time.Thursday: nepalHours, time.Friday: nepalHours},
	})
	parisAlways := build(t, businesstime.Config{Name: "paris-24/7", Zone: "Europe/Paris", Week: allWeek(businesstime.MustParseHours("00:00-24:00"))})

	for _, tc := range []struct {
		name string
		cal  *businesstime.Calendar
		from time.Time
		add  time.Duration
		want time.Time
	}{
		{"within a morning", pOffice, time.Date(2026, 3, 2, 9, 0, 0, 0, paris), time.Hour, time.Date(2026, 3, 2, 10, 0, 0, 0, paris)},
		{"over lunch", pOffice, time.Date(2026, 3, 2, 10, 0, 0, 0, paris), 3 * time.Hour, time.Date(2026, 3, 2, 14, 0, 0, 0, paris)},
		{"from lunch", pOffice, time.Date(2026, 3, 2, 12, 45, 0, 0, paris), time.Hour, time.Date(2026, 3, 2, 14, 30, 0, 0, paris)},
		{"before opening", pOffice, time.Date(2026, 3, 2, 7, 0, 0, 0, paris), 30 * time.Minute, time.Date(2026, 3, 2, 9, 30, 0, 0, paris)},
		{"ends at closing, not at the next opening", pOffice, time.Date(2026, 3, 2, 14, 0, 0, 0, paris), 4 * time.Hour, time.Date(2026, 3, 2, 18, 0, 0, 0, paris)},
		{"a whole day", pOffice, time.Date(2026, 3, 2, 18, 0, 0, 0, paris), 8 * time.Hour, time.Date(2026, 3, 3, 18, 0, 0, 0, paris)},
		{"seconds count", pOffice, time.Date(2026, 3, 2, 12, 29, 59, 500, paris), time.Second, time.Date(2026, 3, 2, 13, 30, 0, 500, paris)},
		{"over a weekend", pOffice, time.Date(2026, 3, 6, 16, 0, 0, 0, paris), 4 * time.Hour, time.Date(2026, 3, 9, 11, 0, 0, 0, paris)},
		{"from a Saturday", pOffice, time.Date(2026, 3, 7, 12, 0, 0, 0, paris), time.Hour, time.Date(2026, 3, 9, 10, 0, 0, 0, paris)},
		{"over the March change (CET to CEST)", pOffice, time.Date(2026, 3, 27, 17, 0, 0, 0, paris), 2 * time.Hour, time.Date(2026, 3, 30, 10, 0, 0, 0, paris)},
		{"over the October change (CEST to CET)", pOffice, time.Date(2026, 10, 23, 17, 0, 0, 0, paris), 2 * time.Hour, time.Date(2026, 10, 26, 10, 0, 0, 0, paris)},
		{"a Friday holiday", pOffice, time.Date(2026, 12, 24, 17, 0, 0, 0, paris), 2 * time.Hour, time.Date(2026, 12, 28, 10, 0, 0, 0, paris)},
		{"a Saturday opened", pOffice, time.Date(2026, 12, 18, 17, 0, 0, 0, paris), 2 * time.Hour, time.Date(2026, 12, 19, 11, 0, 0, 0, paris)},
		{"a yearly holiday on a Friday", pOffice, time.Date(2026, 4, 30, 17, 0, 0, 0, paris), 2 * time.Hour, time.Date(2026, 5, 4, 10, 0, 0, 0, paris)},
		{"the yearly holiday four years on", pOffice, time.Date(2030, 4, 30, 17, 0, 0, 0, paris), 2 * time.Hour, time.Date(2030, 5, 2, 10, 0, 0, 0, paris)},
		{"the 24/7 March day has 23 hours", parisAlways, time.Date(2026, 3, 29, 0, 0, 0, 0, paris), 23 * time.Hour, time.Date(2026, 3, 30, 0, 0, 0, 0, paris)},
		{"the 24/7 October day has 25 hours", parisAlways, time.Date(2026, 10, 25, 0, 0, 0, 0, paris), 25 * time.Hour, time.Date(2026, 10, 26, 0, 0, 0, 0, paris)},
		{"24/7 into the repeated hour", parisAlways, time.Date(2026, 10, 25, 0, 0, 0, 0, time.UTC), 30 * time.Minute, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC)}, // 02:30 CEST
		{"24/7 across the repeated hour", parisAlways, time.Date(2026, 10, 25, 0, 30, 0, 0, time.UTC), time.Hour, time.Date(2026, 10, 25, 1, 30, 0, 0, time.UTC)},     // 02:30 CET
		{"a half-hour zone", india, time.Date(2026, 6, 1, 17, 30, 0, 0, kolkata), time.Hour, time.Date(2026, 6, 2, 10, 0, 0, 0, kolkata)},
		{"a half-hour zone, from UTC", india, time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC), time.Hour, time.Date(2026, 6, 2, 4, 30, 0, 0, time.UTC)},
		{"a quarter-hour zone, over its weekend", nepal, time.Date(2026, 6, 5, 16, 0, 0, 0, kathmandu), 2 * time.Hour, time.Date(2026, 6, 7, 11, 0, 0, 0, kathmandu)},
		{"a quarter-hour zone, from UTC", nepal, time.Date(2026, 6, 5, 10, 15, 0, 0, time.UTC), 2 * time.Hour, time.Date(2026, 6, 7, 5, 15, 0, 0, time.UTC)},
		{"24/7 ten years ahead is wall time", parisAlways, time.Date(2026, 1, 5, 9, 0, 0, 0, paris), 87660 * time.Hour, time.Date(2026, 1, 5, 8, 0, 0, 0, time.UTC).Add(87660 * time.Hour)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.cal.Add(tc.from, tc.add)
			assert.True(t, tc.want.Equal(got), "Add(%v, %v) = %v, want %v", tc.from, tc.add, got, tc.want)
			assert.Equal(t, tc.from.Location(), got.Location(), "in the location of the start")
			assert.Equal(t, tc.add, tc.cal.Between(tc.from, tc.want), "Between")
			assert.Equal(t, -tc.add, tc.cal.Between(tc.want, tc.from), "Between backwards")
		})
	}
}

func TestAddZeroOrLess(t *testing.T) {
	c := parisOffice(t)
	sat := time.Date(2026, 3, 7, 12, 0, 0, 0, zone(t, "Europe/Paris"))
	assert.Equal(t, sat, c.Add(sat, 0))
	assert.Equal(t, sat, c.Add(sat, -time.Hour))
}

// TestDaylightSavingSpans: spans whose ends fall in the hour that does not
// exist, or in the one that exists twice.
func TestDaylightSavingSpans(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	c := build(t, businesstime.Config{
		Name: "night-desk",
		Zone: "Europe/Paris",
		Week: businesstime.Week{time.Monday: businesstime.MustParseHours("09:00-10:00")},
		Exceptions: []businesstime.Exception{
			{Date: date("2026-03-29"), Name: "spring", Hours: businesstime.MustParseHours("01:00-05:00")},
			{Date: date("2026-10-25"), Name: "autumn", Hours: businesstime.MustParseHours("01:00-05:00")},
			{Date: date("2027-03-28"), Name: "starts in the gap", Hours: businesstime.MustParseHours("02:30-04:00")},
			{Date: date("2027-10-31"), Name: "ends in the repeated hour", Hours: businesstime.MustParseHours("01:00-02:30")},
			{Date: date("2028-03-26"), Name: "wholly in the gap", Hours: businesstime.MustParseHours("02:10-02:50")},
		},
	})
	utc := func(s string) time.Time {
		v, err := time.Parse(time.RFC3339, s)
		require.NoError(t, err)
		return v
	}
	for _, tc := range []struct {
		date string
		open []businesstime.Interval
	}{
		{"2026-03-29", []businesstime.Interval{{Start: utc("2026-03-29T00:00:00Z"), End: utc("2026-03-29T03:00:00Z")}}}, // 01:00 CET to 05:00 CEST: 3 hours
		{"2026-10-25", []businesstime.Interval{{Start: utc("2026-10-24T23:00:00Z"), End: utc("2026-10-25T04:00:00Z")}}}, // 01:00 CEST to 05:00 CET: 5 hours
		{"2027-03-28", []businesstime.Interval{{Start: utc("2027-03-28T01:00:00Z"), End: utc("2027-03-28T02:00:00Z")}}}, // from 03:00 CEST, when the clock jumps past 02:30
		{"2027-10-31", []businesstime.Interval{{Start: utc("2027-10-30T23:00:00Z"), End: utc("2027-10-31T00:30:00Z")}}}, // to the first 02:30 (CEST)
		{"2028-03-26", nil},
	} {
		day := c.Day(date(tc.date))
		require.Len(t, day.Open, len(tc.open), tc.date)
		for i, want := range tc.open {
			assert.True(t, want.Start.Equal(day.Open[i].Start), "%s starts %v, want %v", tc.date, day.Open[i].Start, want.Start)
			assert.True(t, want.End.Equal(day.Open[i].End), "%s ends %v, want %v", tc.date, day.Open[i].End, want.End)
			assert.Equal(t, paris, day.Open[i].Start.Location())
		}
	}
	assert.Equal(t, 3*time.Hour, c.Day(date("2026-03-29")).Duration())
	assert.Equal(t, 5*time.Hour, c.Day(date("2026-10-25")).Duration())

	// The repeated hour: 02:15 CEST is open, 02:15 CET (after the first
	// 02:30) is not.
	assert.True(t, c.IsOpen(utc("2027-10-31T00:15:00Z")))
	assert.False(t, c.IsOpen(utc("2027-10-31T01:15:00Z")))
	assert.True(t, c.IsOpen(utc("2026-10-25T01:15:00Z")), "02:15 CET within 01:00-05:00")
	// 01:00 CET + 90 minutes = 03:30 CEST.
	assert.True(t, utc("2026-03-29T01:30:00Z").Equal(c.Add(time.Date(2026, 3, 29, 1, 0, 0, 0, paris), 90*time.Minute)))
	// Measuring across the changes: 3 hours in March, 5 in October.
	assert.Equal(t, 3*time.Hour, c.Between(time.Date(2026, 3, 28, 0, 0, 0, 0, paris), time.Date(2026, 3, 30, 0, 0, 0, 0, paris)))
	assert.Equal(t, 5*time.Hour, c.Between(time.Date(2026, 10, 24, 0, 0, 0, 0, paris), time.Date(2026, 10, 26, 0, 0, 0, 0, paris)))
	// A span wholly in the gap adds nothing: from the Saturday, the next
	// open time is Monday 09:00.
	assert.True(t, time.Date(2028, 3, 27, 9, 0, 0, 0, paris).Equal(c.NextOpen(time.Date(2028, 3, 25, 12, 0, 0, 0, paris))))
}

// TestOddZones: a 30-minute daylight-saving change (Lord Howe Island) and a
// day that never was (Samoa skipped 30 December 2011).
func TestOddZones(t *testing.T) {
	always := businesstime.MustParseHours("00:00-24:00")
	lordHowe := build(t, businesstime.Config{Zone: "Australia/Lord_Howe", Week: allWeek(always)})
	assert.Equal(t, 24*time.Hour+30*time.Minute, lordHowe.Day(date("2026-04-05")).Duration())
	assert.Equal(t, 23*time.Hour+30*time.Minute, lordHowe.Day(date("2026-10-04")).Duration())
	assert.Equal(t, 24*time.Hour, lordHowe.Day(date("2026-10-05")).Duration())

	apia := build(t, businesstime.Config{Zone: "Pacific/Apia", Week: allWeek(always)})
	assert.Empty(t, apia.Day(date("2011-12-30")).Open)
	assert.Equal(t, 24*time.Hour, apia.Day(date("2011-12-29")).Duration())
	from := time.Date(2011, 12, 29, 12, 0, 0, 0, apia.Location())
	assert.Equal(t, 12*time.Hour, apia.Between(from, time.Date(2011, 12, 31, 0, 0, 0, 0, apia.Location())))
	assert.True(t, time.Date(2011, 12, 31, 1, 0, 0, 0, apia.Location()).Equal(apia.Add(from, 13*time.Hour)))
}

func TestIsOpenAndNextOpen(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	c := parisOffice(t)
	for _, tc := range []struct {
		at   time.Time
		open bool
		next time.Time
	}{
		{time.Date(2026, 3, 2, 8, 59, 0, 0, paris), false, time.Date(2026, 3, 2, 9, 0, 0, 0, paris)},
		{time.Date(2026, 3, 2, 9, 0, 0, 0, paris), true, time.Date(2026, 3, 2, 9, 0, 0, 0, paris)},
		{time.Date(2026, 3, 2, 12, 30, 0, 0, paris), false, time.Date(2026, 3, 2, 13, 30, 0, 0, paris)},
		{time.Date(2026, 3, 2, 17, 59, 59, 999, paris), true, time.Date(2026, 3, 2, 17, 59, 59, 999, paris)},
		{time.Date(2026, 3, 2, 18, 0, 0, 0, paris), false, time.Date(2026, 3, 3, 9, 0, 0, 0, paris)},
		{time.Date(2026, 3, 28, 10, 0, 0, 0, paris), false, time.Date(2026, 3, 30, 9, 0, 0, 0, paris)},
		{time.Date(2026, 12, 24, 18, 30, 0, 0, paris), false, time.Date(2026, 12, 28, 9, 0, 0, 0, paris)},
		{time.Date(2026, 12, 19, 15, 0, 0, 0, paris), true, time.Date(2026, 12, 19, 15, 0, 0, 0, paris)},
		{time.Date(2026, 12, 24, 23, 0, 0, 0, time.UTC), false, time.Date(2026, 12, 28, 8, 0, 0, 0, time.UTC)},
	} {
		assert.Equal(t, tc.open, c.IsOpen(tc.at), "IsOpen(%v)", tc.at)
		got := c.NextOpen(tc.at)
		assert.True(t, tc.next.Equal(got), "NextOpen(%v) = %v, want %v", tc.at, got, tc.next)
		assert.Equal(t, tc.at.Location(), got.Location())
	}
}

// TestTenYearsAhead compares Add and Between over ten years, with two
// holidays a year and twenty daylight-saving changes, against a count of
// open days made one date at a time.
func TestTenYearsAhead(t *testing.T) {
	paris := zone(t, "Europe/Paris")
	c := build(t, businesstime.Config{
		Name: "paris-office",
		Zone: "Europe/Paris",
		Week: businesstime.Week{time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office},
		Holidays: []businesstime.Holiday{
			{Date: date("2026-05-01"), Name: "Fête du Travail", Yearly: true},
			{Date: date("2026-12-25"), Name: "Noël", Yearly: true},
			{Date: date("2031-07-14"), Name: "Fête nationale"},
		},
	})
	start := time.Date(2026, 1, 5, 9, 0, 0, 0, paris)
	for _, days := range []int{1, 5, 6, 250, 1000, 2600} {
		t.Run(fmt.Sprintf("%d open days", days), func(t *testing.T) {
			d, counted := businesstime.DateOf(start), 0
			for {
				wd := d.Weekday()
				holiday := (d.Month == time.May && d.Day == 1) || (d.Month == time.December && d.Day == 25) || d == date("2031-07-14")
				if wd != time.Saturday && wd != time.Sunday && !holiday {
					counted++
					if counted == days {
						break
					}
				}
				d = d.AddDays(1)
			}
			want := time.Date(d.Year, d.Month, d.Day, 18, 0, 0, 0, paris)
			add := time.Duration(days) * 8 * time.Hour
			got := c.Add(start, add)
			assert.True(t, want.Equal(got), "Add = %v, want %v", got, want)
			assert.Equal(t, add, c.Between(start, want))
			assert.Equal(t, add, c.Between(start, want.Add(15*time.Hour)), "the night after adds nothing")
		})
	}
	// Monday to Friday around the clock: the changes fall on Sundays, so
	// every week holds 120 hours; 520 weeks end on a Saturday at 00:00.
	weekdays := build(t, businesstime.Config{Zone: "Europe/Paris", Week: businesstime.Week{
		time.Monday: {{From: 0, To: businesstime.EndOfDay}}, time.Tuesday: {{From: 0, To: businesstime.EndOfDay}}, time.Wednesday: {{From: 0, To: businesstime.EndOfDay}},
		time.Thursday: {{From: 0, To: businesstime.EndOfDay}}, time.Friday: {{From: 0, To: businesstime.EndOfDay}},
	}})
	monday := time.Date(2026, 1, 5, 0, 0, 0, 0, paris)
	want := time.Date(2026, 1, 10+519*7, 0, 0, 0, 0, paris)
	assert.True(t, want.Equal(weekdays.Add(monday, 520*120*time.Hour)), "got %v", weekdays.Add(monday, 520*120*time.Hour))
	assert.Equal(t, 520*120*time.Hour, weekdays.Between(monday, want))
}
