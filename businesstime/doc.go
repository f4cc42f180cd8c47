// Package businesstime is calendar arithmetic over business hours: opening
// hours per weekday in an IANA time zone (several spans a day, such as
// 09:00-12:30 and 13:30-18:00), holidays and exceptional days, and the pure
// functions a service-level clock needs: add business time to an instant
// (Calendar.Add), measure the business time between two instants
// (Calendar.Between), find the next open instant (Calendar.NextOpen) and
// tell whether an instant is open (Calendar.IsOpen).
//
// Opening hours are read on the zone's clock face. An instant is open when
// it lies in one of its day's spans, and a span runs from the first instant
// at which the zone's clock reads its start (or a later time) to the first
// instant at which it reads its end (or later). This one rule settles the
// daylight-saving changes: a span boundary at a time that does not exist
// (02:30 in Paris on the last Sunday of March) falls on the instant the
// clock jumps past it (03:00 CEST); a boundary at a time that exists twice
// (02:30 on the last Sunday of October) is its first occurrence. A day open
// 00:00-24:00 thus has 23 hours of business time in March and 25 in
// October, as the hours an agent really works.
//
// The arithmetic walks whole days, not minutes, and skips whole weeks at
// once where the zone's offset stays the same and no holiday or exception
// falls: a deadline ten years ahead costs a few hundred steps (one per
// daylight-saving change, holiday and exception on the way), not millions.
//
// Zones come from time.LoadLocation, so the host needs the IANA time zone
// database: the system's (/usr/share/zoneinfo, the tzdata package on
// Debian) or the copy embedded by importing time/tzdata in the host's main
// package. The package's tests import time/tzdata so they pass anywhere.
//
// The package is pure: no I/O, no clock of its own, safe for concurrent use
// once built.
package businesstime
