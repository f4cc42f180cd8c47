package sla_test

import (
	"testing"

	"github.com/emailflow/emailflow/sla"
)

// BenchmarkMachine: what one interaction costs the Workspace. Fire on an
// interaction with nothing due is what a Tick pays for an index entry that
// went stale; Apply is paid per event; Next and Due per write.
func BenchmarkMachine(b *testing.B) {
	m := machine(b, standard())
	st, _ := run(b, m,
		sla.Event{Kind: sla.Arrived, At: at(2, 10, 0)},
		sla.Event{Kind: sla.ReplySent, At: at(2, 11, 0)},
		sla.Event{Kind: sla.CustomerMessage, At: at(2, 14, 0)},
	)
	b.Run("Fire/nothing-due", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Fire(st, at(2, 15, 0))
		}
	})
	b.Run("Fire/warning-and-breach", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Fire(st, at(3, 15, 0))
		}
	})
	b.Run("Apply/reply", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, _, err := m.Apply(st, sla.Event{Kind: sla.ReplySent, At: at(2, 15, 0)}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Next", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Next(st)
		}
	})
	b.Run("Status", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			m.Status(st, at(2, 15, 0))
		}
	})
}
