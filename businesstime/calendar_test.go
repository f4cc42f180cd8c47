package businesstime_test

import (
	"encoding/json"
	"testing"
	"time"
	_ "time/tzdata" // the tests pass on hosts without a zone database

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow/businesstime"
)

func zone(t testing.TB, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

func date(s string) businesstime.Date {
	d, err := businesstime.ParseDate(s)
	if err != nil {
		panic(err)
	}
	return d
}

func build(t testing.TB, cfg businesstime.Config) *businesstime.Calendar {
	t.Helper()
	c, err := businesstime.New(cfg)
	require.NoError(t, err)
	return c
}

var office = businesstime.MustParseHours("09:00-12:30, 13:30-18:00")

// parisOffice is open Monday to Friday 09:00-12:30 and 13:30-18:00, closed
// on Christmas 2026 (a Friday) and on every May Day from 2026 on, and open
// on the Saturday before Christmas 2026.
func parisOffice(t testing.TB) *businesstime.Calendar {
	return build(t, businesstime.Config{
		Name: "paris-office",
		Zone: "Europe/Paris",
		Week: businesstime.Week{time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office},
		Holidays: []businesstime.Holiday{
			{Date: date("2026-12-25"), Name: "Noël"},
			{Date: date("2026-05-01"), Name: "Fête du Travail", Yearly: true},
		},
		Exceptions: []businesstime.Exception{
			{Date: date("2026-12-19"), Name: "Samedi avant Noël", Hours: businesstime.MustParseHours("10:00-16:00")},
		},
	})
}

func allWeek(h businesstime.Hours) businesstime.Week {
	var w businesstime.Week
	for i := range w {
		w[i] = h
	}
	return w
}

func TestNewRefusesBadConfig(t *testing.T) {
	week := businesstime.Week{time.Monday: office}
	for _, tc := range []struct {
		name string
		cfg  businesstime.Config
		want error
	}{
		{"no zone", businesstime.Config{Week: week}, businesstime.ErrInvalidZone},
		{"host zone", businesstime.Config{Zone: "Local", Week: week}, businesstime.ErrInvalidZone},
		{"unknown zone", businesstime.Config{Zone: "Europe/Atlantis", Week: week}, businesstime.ErrInvalidZone},
		{"empty week", businesstime.Config{Zone: "UTC"}, businesstime.ErrNoBusinessHours},
		{"reversed span", businesstime.Config{Zone: "UTC", Week: businesstime.Week{time.Monday: {{From: businesstime.At(18, 0), To: businesstime.At(9, 0)}}}}, businesstime.ErrInvalidHours},
		{"overlapping spans", businesstime.Config{Zone: "UTC", Week: businesstime.Week{time.Monday: {{From: businesstime.At(9, 0), To: businesstime.At(13, 0)}, {From: businesstime.At(12, 0), To: businesstime.At(18, 0)}}}}, businesstime.ErrInvalidHours},
		{"past midnight", businesstime.Config{Zone: "UTC", Week: businesstime.Week{time.Monday: {{From: businesstime.At(22, 0), To: businesstime.At(25, 0)}}}}, businesstime.ErrInvalidHours},
		{"no such date", businesstime.Config{Zone: "UTC", Week: week, Holidays: []businesstime.Holiday{{Date: businesstime.Date{Year: 2027, Month: 2, Day: 29}}}}, businesstime.ErrInvalidDate},
		{"two holidays", businesstime.Config{Zone: "UTC", Week: week, Holidays: []businesstime.Holiday{{Date: date("2026-12-25")}, {Date: date("2026-12-25")}}}, businesstime.ErrDuplicateDate},
		{"two yearly holidays", businesstime.Config{Zone: "UTC", Week: week, Holidays: []businesstime.Holiday{{Date: date("2026-12-25"), Yearly: true}, {Date: date("2030-12-25"), Yearly: true}}}, businesstime.ErrDuplicateDate},
		{"holiday and exception", businesstime.Config{Zone: "UTC", Week: week, Holidays: []businesstime.Holiday{{Date: date("2026-12-25")}}, Exceptions: []businesstime.Exception{{Date: date("2026-12-25"), Hours: office}}}, businesstime.ErrDuplicateDate},
		{"exception hours", businesstime.Config{Zone: "UTC", Week: week, Exceptions: []businesstime.Exception{{Date: date("2026-12-19"), Hours: businesstime.Hours{{From: 10, To: 10}}}}}, businesstime.ErrInvalidHours},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c, err := businesstime.New(tc.cfg)
			assert.ErrorIs(t, err, tc.want)
			assert.Nil(t, c)
		})
	}
}

func TestNewCopiesConfig(t *testing.T) {
	h := businesstime.MustParseHours("09:00-17:00")
	cfg := businesstime.Config{Name: "x", Zone: "UTC", Week: businesstime.Week{time.Monday: h}}
	c := build(t, cfg)
	h[0].To = businesstime.At(10, 0) // the caller's slice changes afterwards
	assert.Equal(t, 8*time.Hour, c.Day(date("2026-06-01")).Duration())
	assert.Equal(t, "x", c.Name())
	assert.Equal(t, "UTC", c.Location().String())
}

func TestExceptionWinsOverYearlyHoliday(t *testing.T) {
	c := build(t, businesstime.Config{
		Zone:       "Europe/Paris",
		Week:       allWeek(office),
		Holidays:   []businesstime.Holiday{{Date: date("2020-12-26"), Name: "Boxing Day", Yearly: true}},
		Exceptions: []businesstime.Exception{{Date: date("2027-12-26"), Name: "Soldes", Hours: businesstime.MustParseHours("10:00-12:00")}},
	})
	assert.Equal(t, businesstime.Day{Date: date("2019-12-26"), Open: c.Day(date("2019-12-26")).Open}, c.Day(date("2019-12-26")), "before its first year")
	assert.Equal(t, 8*time.Hour, c.Day(date("2019-12-26")).Duration())
	assert.Equal(t, businesstime.Day{Date: date("2026-12-26"), Name: "Boxing Day"}, c.Day(date("2026-12-26")))
	got := c.Day(date("2027-12-26"))
	assert.Equal(t, "Soldes", got.Name)
	assert.Equal(t, 2*time.Hour, got.Duration())
}

func TestLeapDayHoliday(t *testing.T) {
	c := build(t, businesstime.Config{
		Zone:     "UTC",
		Week:     allWeek(businesstime.MustParseHours("00:00-24:00")),
		Holidays: []businesstime.Holiday{{Date: date("2024-02-29"), Name: "Leap", Yearly: true}},
	})
	// From 2025-01-01 to 2030-01-01: 1826 days, one of them 2028-02-29.
	from := time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)
	to := time.Date(2030, 1, 1, 0, 0, 0, 0, time.UTC)
	assert.Equal(t, 1825*24*time.Hour, c.Between(from, to))
	assert.Equal(t, "Leap", c.Day(date("2028-02-29")).Name)
	assert.Equal(t, time.Date(2028, 3, 1, 1, 0, 0, 0, time.UTC), c.Add(time.Date(2028, 2, 28, 23, 0, 0, 0, time.UTC), 2*time.Hour))
}

func TestConfigJSON(t *testing.T) {
	in := `{
		"Name": "support-fr",
		"Zone": "Europe/Paris",
		"Week": ["", "09:00-12:30, 13:30-18:00", "09:00-18:00", "09:00-18:00", "09:00-18:00", "09:00-17:00", "10:00-12:00"],
		"Holidays": [{"Date": "2026-12-25", "Name": "Noël"}, {"Date": "2026-05-01", "Name": "Fête du Travail", "Yearly": true}],
		"Exceptions": [{"Date": "2026-12-20", "Name": "Dimanche avant Noël", "Hours": "10:00-16:00"}]
	}`
	var cfg businesstime.Config
	require.NoError(t, json.Unmarshal([]byte(in), &cfg))
	assert.Equal(t, businesstime.Hours{{From: businesstime.At(9, 0), To: businesstime.At(12, 30)}, {From: businesstime.At(13, 30), To: businesstime.At(18, 0)}}, cfg.Week[time.Monday])
	assert.Empty(t, cfg.Week[time.Sunday])
	c := build(t, cfg)
	assert.Equal(t, 6*time.Hour, c.Day(date("2026-12-20")).Duration())
	out, err := json.Marshal(cfg)
	require.NoError(t, err)
	var again businesstime.Config
	require.NoError(t, json.Unmarshal(out, &again))
	assert.Equal(t, cfg, again)

	for _, bad := range []string{
		`{"Week": ["25:00-26:00"]}`,
		`{"Week": ["09:00-08:00"]}`,
		`{"Week": ["09:00-12:00,11:00-13:00"]}`,
		`{"Holidays": [{"Date": "2026-02-30"}]}`,
		`{"Holidays": [{"Date": "26-12-25"}]}`,
	} {
		var cfg businesstime.Config
		assert.Error(t, json.Unmarshal([]byte(bad), &cfg), bad)
	}
}

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want businesstime.Hours
		err  error
	}{
		{"", nil, nil},
		{"9:00-17:00", businesstime.Hours{{From: 540, To: 1020}}, nil},
		{"00:00-24:00", businesstime.Hours{{From: 0, To: businesstime.EndOfDay}}, nil},
		{" 08:00 - 12:00 ,13:00-17:30 ", businesstime.Hours{{From: 480, To: 720}, {From: 780, To: 1050}}, nil},
		{"24:30-25:00", nil, businesstime.ErrInvalidHours},
		{"09:60-10:00", nil, businesstime.ErrInvalidHours},
		{"+9:00-10:00", nil, businesstime.ErrInvalidHours},
		{"0900-1000", nil, businesstime.ErrInvalidHours},
		{"10:00-10:00", nil, businesstime.ErrInvalidHours},
		{"13:00-14:00, 09:00-10:00", nil, businesstime.ErrInvalidHours},
		{"09:00-10:00,", nil, businesstime.ErrInvalidHours},
	} {
		got, err := businesstime.ParseHours(tc.in)
		if tc.err != nil {
			assert.ErrorIs(t, err, tc.err, tc.in)
			continue
		}
		require.NoError(t, err, tc.in)
		assert.Equal(t, tc.want, got, tc.in)
	}
	assert.Equal(t, "09:00-12:30, 13:30-18:00", office.String())
	assert.Equal(t, "TimeOfDay(-1)", businesstime.TimeOfDay(-1).String())
	_, err := businesstime.TimeOfDay(2000).MarshalText()
	assert.ErrorIs(t, err, businesstime.ErrInvalidHours)
	assert.Panics(t, func() { businesstime.MustParseHours("nine to five") })

	d, err := businesstime.ParseDate("2028-02-29")
	require.NoError(t, err)
	assert.Equal(t, businesstime.Date{Year: 2028, Month: time.February, Day: 29}, d)
	assert.Equal(t, time.Tuesday, d.Weekday())
	assert.Equal(t, date("2028-03-01"), d.AddDays(1))
	assert.Equal(t, date("2027-12-31"), date("2028-01-01").AddDays(-1))
	assert.Equal(t, businesstime.Date{Year: 1969, Month: time.December, Day: 31}, date("1970-01-01").AddDays(-1))
	assert.Equal(t, time.Wednesday, date("1969-12-31").Weekday())
	for _, bad := range []string{"2027-02-29", "2026-13-01", "2026-00-10", "2026-1-10", "20261-1-10", "2026-01-1x"} {
		_, err := businesstime.ParseDate(bad)
		assert.ErrorIs(t, err, businesstime.ErrInvalidDate, bad)
	}
	assert.Equal(t, date("2026-03-29"), businesstime.DateOf(time.Date(2026, 3, 29, 23, 0, 0, 0, zone(t, "Europe/Paris"))))
}
