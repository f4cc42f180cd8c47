package emailflow_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/memory"
	transport "github.com/emailflow/emailflow/transport/memory"
)

var benchSkills = []string{"billing", "returns", "vip", "delivery", "b2b"}

// routingScene fills a memory store with waiting interactions and agents,
// half of them busy at capacity, and returns the workspace, the ids of the
// waiting interactions and of the free agents, and the heap it took.
func routingScene(b *testing.B, waiting, agents int) (*emailflow.Workspace, []string, []string, uint64) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(waiting), uint64(agents)))
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)

	store := memory.New(nil)
	ws, err := emailflow.New(emailflow.Ports{Store: store, Sender: &transport.Sender{}}, nil)
	if err != nil {
		b.Fatal(err)
	}
	t0 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	var free []string
	err = store.Update(ctx, func(tx emailflow.Tx) error {
		for i := 0; i < agents; i++ {
			a := &emailflow.Agent{
				ID: fmt.Sprintf("agent-%05d", i), Status: emailflow.StatusReady, Queues: []string{"q"}, Capacity: 3,
				Skills:    map[string]int{benchSkills[rng.IntN(5)]: 1 + rng.IntN(3), benchSkills[rng.IntN(5)]: 1 + rng.IntN(3)},
				IdleSince: t0.Add(time.Duration(rng.IntN(3600)) * time.Second),
			}
			if err := tx.PutAgent(ctx, a); err != nil {
				return err
			}
			if i%2 == 0 {
				free = append(free, a.ID)
				continue
			}
			for j := 0; j < a.Capacity; j++ { // busy: at capacity
				it, _ := interaction.New(fmt.Sprintf("busy-%05d-%d", i, j), interaction.KindInbound, "system", t0)
				it.State, it.Owner, it.Queue = interaction.StateHandling, a.ID, "q"
				if err := tx.CreateInteraction(ctx, it); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	ids := make([]string, waiting)
	err = store.Update(ctx, func(tx emailflow.Tx) error {
		for i := range ids {
			it, _ := interaction.New(fmt.Sprintf("wait-%06d", i), interaction.KindInbound, "system", t0)
			it.State, it.Queue, it.Priority = interaction.StateQueued, "q", rng.IntN(3)
			it.QueuedAt = t0.Add(time.Duration(rng.IntN(86400)) * time.Second)
			it.Skills = map[string]int{benchSkills[rng.IntN(5)]: 1 + rng.IntN(2)}
			if err := tx.CreateInteraction(ctx, it); err != nil {
				return err
			}
			ids[i] = it.ID
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	runtime.GC()
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	return ws, ids, free, after.HeapAlloc - before.HeapAlloc
}

// BenchmarkRoutingDecision measures the two routing decisions on the
// memory store: which agent a waiting interaction goes to, and which
// waiting interaction a free agent gets, alternately, at 1k to 100k
// waiting interactions and 100 to 5k agents (half of them busy at
// capacity). It reports ns/op, the 99th percentile of one decision, and
// the heap the scene holds per entity (agents + interactions).
// With -short (CI's smoke run) only the smallest scene is built.
func BenchmarkRoutingDecision(b *testing.B) {
	waitings, agentses := []int{1_000, 10_000, 100_000}, []int{100, 1_000, 5_000}
	if testing.Short() {
		waitings, agentses = waitings[:1], agentses[:1]
	}
	for _, waiting := range waitings {
		for _, agents := range agentses {
			b.Run(fmt.Sprintf("waiting=%d/agents=%d", waiting, agents), func(b *testing.B) {
				ws, ids, free, heap := routingScene(b, waiting, agents)
				ctx := context.Background()
				lat := make([]time.Duration, 0, b.N)
				b.ReportAllocs()
				b.ResetTimer()
				for i := 0; i < b.N; i++ {
					start := time.Now()
					var err error
					if i%2 == 0 {
						_, err = ws.DecideAgent(ctx, ids[i%len(ids)])
					} else {
						_, err = ws.DecideNext(ctx, free[i%len(free)])
					}
					lat = append(lat, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
				b.ReportMetric(float64(heap)/float64(waiting+agents), "heap-B/entity")
			})
		}
	}
}
