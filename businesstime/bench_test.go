package businesstime_test

import (
	"testing"
	"time"

	"github.com/emailflow/emailflow/businesstime"
)

// frenchOffice is a Paris office with France's eleven public holidays of
// 2026 to 2036: the fixed ones yearly, the movable ones (Easter Monday,
// Ascension, Whit Monday) dated.
func frenchOffice(b testing.TB, zoneName string) *businesstime.Calendar {
	cfg := businesstime.Config{
		Name: "office",
		Zone: zoneName,
		Week: businesstime.Week{time.Monday: office, time.Tuesday: office, time.Wednesday: office, time.Thursday: office, time.Friday: office},
	}
	for _, md := range []string{"01-01", "05-01", "05-08", "07-14", "08-15", "11-01", "11-11", "12-25"} {
		cfg.Holidays = append(cfg.Holidays, businesstime.Holiday{Date: date("2026-" + md), Yearly: true})
	}
	for _, easter := range []string{"2026-04-05", "2027-03-28", "2028-04-16", "2029-04-01", "2030-04-21", "2031-04-13", "2032-03-28", "2033-04-17", "2034-04-09", "2035-03-25", "2036-04-13"} {
		e := date(easter)
		cfg.Holidays = append(cfg.Holidays,
			businesstime.Holiday{Date: e.AddDays(1), Name: "Lundi de Pâques"},
			businesstime.Holiday{Date: e.AddDays(39), Name: "Ascension"},
			businesstime.Holiday{Date: e.AddDays(50), Name: "Lundi de Pentecôte"})
	}
	return build(b, cfg)
}

// The horizons: 8 hours a day, about 250 open days a year.
var horizons = []struct {
	name string
	d    time.Duration
}{
	{"4h", 4 * time.Hour},
	{"1y", 250 * 8 * time.Hour},
	{"10y", 2500 * 8 * time.Hour},
}

func BenchmarkAdd(b *testing.B) {
	for _, zoneName := range []string{"Europe/Paris", "Asia/Kolkata"} {
		c := frenchOffice(b, zoneName)
		from := time.Date(2026, 1, 7, 16, 20, 0, 0, c.Location())
		for _, h := range horizons {
			b.Run(zoneName+"/"+h.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					c.Add(from, h.d)
				}
			})
		}
	}
}

func BenchmarkBetween(b *testing.B) {
	for _, zoneName := range []string{"Europe/Paris", "Asia/Kolkata"} {
		c := frenchOffice(b, zoneName)
		from := time.Date(2026, 1, 7, 16, 20, 0, 0, c.Location())
		for _, h := range horizons {
			to := c.Add(from, h.d)
			b.Run(zoneName+"/"+h.name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					c.Between(from, to)
				}
			})
		}
	}
}
