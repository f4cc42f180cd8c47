package businesstime_test

import (
	"encoding/json"
	"fmt"
	"time"

	"github.com/emailflow/emailflow/businesstime"
)

func ExampleCalendar_Add() {
	office := businesstime.MustParseHours("09:00-12:30, 13:30-18:00")
	cal, err := businesstime.New(businesstime.Config{
		Name:     "support-fr",
		Zone:     "Europe/Paris",
		Week:     businesstime.Week{time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office},
		Holidays: []businesstime.Holiday{{Date: businesstime.Date{Year: 2026, Month: time.December, Day: 25}, Name: "Noël"}},
	})
	if err != nil {
		panic(err)
	}
	paris := cal.Location()
	// Four business hours from Thursday 24 December, 16:00: two that
	// day, none on Christmas Day nor over the weekend, two on Monday.
	fmt.Println(cal.Add(time.Date(2026, 12, 24, 16, 0, 0, 0, paris), 4*time.Hour).Format(time.DateTime))
	// Across the change to summer time: Friday 17:00 + 2 hours.
	fmt.Println(cal.Add(time.Date(2026, 3, 27, 17, 0, 0, 0, paris), 2*time.Hour).Format(time.DateTime + " MST"))
	// Output:
	// 2026-12-28 11:00:00
	// 2026-03-30 10:00:00 CEST
}

func ExampleCalendar_Between() {
	cal, err := businesstime.New(businesstime.Config{
		Zone: "Asia/Kolkata",
		Week: businesstime.Week{time.Monday: businesstime.MustParseHours("09:30-18:00"), time.Tuesday: businesstime.MustParseHours("09:30-18:00")},
	})
	if err != nil {
		panic(err)
	}
	// Monday 12:00 UTC is 17:30 in Kolkata: half an hour that day, half
	// an hour on Tuesday.
	from := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	to := time.Date(2026, 6, 2, 4, 30, 0, 0, time.UTC)
	fmt.Println(cal.Between(from, to))
	fmt.Println(cal.IsOpen(from), cal.NextOpen(from.Add(time.Hour)).In(cal.Location()).Format(time.DateTime))
	// Output:
	// 1h0m0s
	// true 2026-06-02 09:30:00
}

func ExampleCalendar_Day() {
	cal, err := businesstime.New(businesstime.Config{
		Zone: "Europe/Paris",
		Week: businesstime.Week{time.Sunday: {{From: 0, To: businesstime.EndOfDay}}},
	})
	if err != nil {
		panic(err)
	}
	for _, d := range []string{"2026-03-22", "2026-03-29", "2026-10-25"} {
		date, _ := businesstime.ParseDate(d)
		fmt.Println(d, cal.Day(date).Duration())
	}
	// Output:
	// 2026-03-22 24h0m0s
	// 2026-03-29 23h0m0s
	// 2026-10-25 25h0m0s
}

func ExampleNew_json() {
	var cfg businesstime.Config
	err := json.Unmarshal([]byte(`{
		"Name": "support-fr",
		"Zone": "Europe/Paris",
		"Week": ["", "09:00-18:00", "09:00-18:00", "09:00-18:00", "09:00-18:00", "09:00-17:00", ""],
		"Holidays": [{"Date": "2026-05-01", "Name": "Fête du Travail", "Yearly": true}],
		"Exceptions": [{"Date": "2026-12-19", "Name": "Samedi avant Noël", "Hours": "10:00-16:00"}]
	}`), &cfg)
	if err != nil {
		panic(err)
	}
	cal, err := businesstime.New(cfg)
	if err != nil {
		panic(err)
	}
	for _, d := range []businesstime.Date{{Year: 2030, Month: time.May, Day: 1}, {Year: 2026, Month: time.December, Day: 19}} {
		day := cal.Day(d)
		fmt.Printf("%v %q %v\n", d, day.Name, day.Duration())
	}
	// Output:
	// 2030-05-01 "Fête du Travail" 0s
	// 2026-12-19 "Samedi avant Noël" 6h0m0s
}
