package storetest

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/jonboulle/clockwork"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/sla"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// BenchmarkTick measures Workspace.Tick on store s (empty) holding open
// inbound interactions handled by agents, of which due have a breach due
// at each Tick; the rest are due hours later. Each round puts the due ones
// back as they were before the Tick, outside the timer. It reports
// µs/tick and µs/due: with a deadline index, both stay the same whatever
// open is.
func BenchmarkTick(b *testing.B, s emailflow.Store, open, due int) {
	NewTickScene(b, s, open, due).Run(b)
}

// TickScene is the scene of BenchmarkTick, stored once: a benchmark whose
// store is slow to fill (100,000 interactions in a database) builds it
// outside its runs and calls Run in each, since the testing package runs
// a benchmark's function more than once.
type TickScene struct {
	s      emailflow.Store
	due    int
	ws     *emailflow.Workspace
	rearm  func() error
	clock  *clockwork.FakeClock
	ticked bool
}

// NewTickScene stores the scene of BenchmarkTick in s (empty).
func NewTickScene(tb testing.TB, s emailflow.Store, open, due int) *TickScene {
	ws, rearm, clock := tickSetup(tb, s, open, due)
	return &TickScene{s: s, due: due, ws: ws, rearm: rearm, clock: clock}
}

// Run measures b.N Ticks of the scene, each with the due interactions
// put back first (outside the timer) when a Tick already handled them.
func (sc *TickScene) Run(b *testing.B) {
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if sc.ticked {
			b.StopTimer()
			if err := sc.rearm(); err != nil {
				b.Fatal(err)
			}
			b.StartTimer()
		}
		sc.ticked = true
		if _, err := sc.ws.Runner(nil).Tick(ctx); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	var left []string
	if err := sc.s.View(ctx, func(tx emailflow.Tx) error {
		var err error
		left, err = tx.(emailflow.ServiceLevelTx).DueSLA(ctx, sc.clock.Now(), 0)
		return err
	}); err != nil {
		b.Fatal(err)
	}
	if len(left) != 0 {
		b.Fatalf("%d still due after a Tick", len(left))
	}
	perTick := float64(b.Elapsed().Microseconds()) / float64(b.N)
	b.ReportMetric(perTick, "µs/tick")
	b.ReportMetric(perTick/float64(sc.due), "µs/due")
}

// tickSetup stores open inbound interactions handled by agents in s, due
// of them with their first response's breach due at the returned clock's
// now, the others hours later; it returns a Workspace on s and a function
// that writes the due ones back as they were.
func tickSetup(b testing.TB, s emailflow.Store, open, due int) (*emailflow.Workspace, func() error, *clockwork.FakeClock) {
	b.Helper()
	ctx := context.Background()
	policy := sla.Policy{Name: "standard", FirstResponse: sla.Target{Within: 4 * time.Hour}}
	m, err := sla.NewMachine(policy, nil)
	if err != nil {
		b.Fatal(err)
	}
	clock := clockwork.NewFakeClockAt(base.Add(5 * time.Hour))
	ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &transport.Sender{}, Clock: clock, Directory: memory.New(nil)}, &emailflow.Options{
		Hostname:      "desk.shop.example",
		Mailboxes:     []emailflow.Mailbox{{Address: "support@shop.example", Queue: "sales"}},
		ServiceLevels: sla.Config{Policies: []sla.Policy{policy}, Default: "standard"},
	})
	if err != nil {
		b.Fatal(err)
	}
	// mk returns interaction i, arrived at arrived.
	mk := func(i int, arrived time.Time) *interaction.Interaction {
		id := fmt.Sprintf("open-%07d", i)
		it := &interaction.Interaction{
			ID: id, Kind: interaction.KindInbound, State: interaction.StateHandling, ThreadID: id,
			Owner: fmt.Sprintf("agent-%03d", i%500), Queue: "sales", QueuedAt: arrived,
			History:   []interaction.Entry{{At: arrived, Actor: "system", Action: "create", To: interaction.StateHandling}},
			CreatedAt: arrived, UpdatedAt: arrived,
		}
		st, _, err := m.Apply(sla.State{}, sla.Event{Kind: sla.Arrived, At: arrived})
		if err != nil {
			b.Fatal(err)
		}
		it.SLA = interaction.ServiceLevel{Policy: "standard", State: st, Next: m.Next(st), Due: m.Due(st)}
		return it
	}
	dueOnes := make([]*interaction.Interaction, 0, due)
	const batch = 1000
	for from := 0; from < open; from += batch {
		err := s.Update(ctx, func(tx emailflow.Tx) error {
			for i := from; i < min(from+batch, open); i++ {
				arrived := base.Add(2 * time.Hour) // due at base+6h: later
				if i%(open/due) == 0 && len(dueOnes) < due {
					arrived = base // due at base+4h: now
				}
				it := mk(i, arrived)
				if arrived.Equal(base) {
					dueOnes = append(dueOnes, it.Clone())
				}
				if err := tx.CreateInteraction(ctx, it); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			b.Fatal(err)
		}
	}
	if len(dueOnes) != due {
		b.Fatalf("%d due, want %d", len(dueOnes), due)
	}
	// rearm writes the due interactions back as they were.
	rearm := func() error {
		return s.Update(ctx, func(tx emailflow.Tx) error {
			for _, d := range dueOnes {
				cur, err := tx.Interaction(ctx, d.ID)
				if err != nil {
					return err
				}
				c := d.Clone()
				c.Version = cur.Version
				if err := tx.UpdateInteraction(ctx, c); err != nil {
					return err
				}
			}
			return nil
		})
	}
	return ws, rearm, clock
}
