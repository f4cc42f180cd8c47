package compose

import (
	"sync"
	"time"
)

// fastDate reads the usual RFC 5322 date, "[Mon, ]2 Jan 2006 15:04[:05]
// -0700[ (comment)]" with a numeric or common named zone, without the
// allocations of time.Parse's errors; anything else goes to net/mail.
func fastDate(s string) (time.Time, bool) {
	var tok [6]string
	n := 0
	for i := 0; i < len(s); {
		for i < len(s) && (s[i] == ' ' || s[i] == '\t') {
			i++
		}
		if i >= len(s) || s[i] == '(' {
			break
		}
		j := i
		for j < len(s) && s[j] != ' ' && s[j] != '\t' {
			j++
		}
		if n == len(tok) {
			return time.Time{}, false
		}
		tok[n] = s[i:j]
		n++
		i = j
	}
	t := tok[:n]
	if len(t) > 0 && len(t[0]) > 0 && t[0][len(t[0])-1] == ',' {
		t = t[1:] // day of week
	}
	if len(t) != 5 {
		return time.Time{}, false
	}
	day, ok1 := atoi(t[0], 1, 2)
	month := monthIndex(t[1])
	year, ok2 := atoi(t[2], 4, 4)
	if !ok1 || !ok2 || month == 0 || day < 1 || day > 31 {
		return time.Time{}, false
	}
	hms := t[3]
	if len(hms) != 5 && len(hms) != 8 || hms[2] != ':' || (len(hms) == 8 && hms[5] != ':') {
		return time.Time{}, false
	}
	hh, ok3 := atoi(hms[0:2], 2, 2)
	mm, ok4 := atoi(hms[3:5], 2, 2)
	ss, ok5 := 0, true
	if len(hms) == 8 {
		ss, ok5 = atoi(hms[6:8], 2, 2)
	}
	if !ok3 || !ok4 || !ok5 || hh > 23 || mm > 59 || ss > 60 {
		return time.Time{}, false
	}
	loc, ok := zone(t[4])
	if !ok {
		return time.Time{}, false
	}
	d := time.Date(year, time.Month(month), day, hh, mm, ss, 0, loc)
	if d.Day() != day {
		return time.Time{}, false // 31 Feb
	}
	return d, true
}

func atoi(s string, minLen, maxLen int) (int, bool) {
	if len(s) < minLen || len(s) > maxLen {
		return 0, false
	}
	n := 0
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < '0' || c > '9' {
			return 0, false
		}
		n = n*10 + int(c-'0')
	}
	return n, true
}

const monthNames = "janfebmaraprmayjunjulaugsepoctnovdec"

func monthIndex(s string) int {
	if len(s) != 3 {
		return 0
	}
	var b [3]byte
	for i := range 3 {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b[i] = c
	}
	for m := range 12 {
		if monthNames[m*3:m*3+3] == string(b[:]) {
			return m + 1
		}
	}
	return 0
}

// zones caches fixed zones by offset in seconds.
var zones sync.Map

var namedZones = map[string]int{
	"UT": 0, "GMT": 0, "UTC": 0, "Z": 0,
	"EST": -5 * 3600, "EDT": -4 * 3600, "CST": -6 * 3600, "CDT": -5 * 3600,
	"MST": -7 * 3600, "MDT": -6 * 3600, "PST": -8 * 3600, "PDT": -7 * 3600,
}

func zone(z string) (*time.Location, bool) {
	off, ok := namedZones[z]
	if !ok {
		if len(z) != 5 || (z[0] != '+' && z[0] != '-') {
			return nil, false
		}
		h, ok1 := atoi(z[1:3], 2, 2)
		m, ok2 := atoi(z[3:5], 2, 2)
		if !ok1 || !ok2 || m > 59 {
			return nil, false
		}
		off = h*3600 + m*60
		if z[0] == '-' {
			off = -off
		}
	}
	if off == 0 {
		return time.UTC, true
	}
	if l, ok := zones.Load(off); ok {
		return l.(*time.Location), true
	}
	l, _ := zones.LoadOrStore(off, time.FixedZone("", off))
	return l.(*time.Location), true
}
