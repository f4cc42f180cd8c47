package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/store/postgres"
)

// The scene: a contact centre of 10 queues (one mailbox each) and 40
// agents of capacity 3, each serving two neighbouring queues; mail comes
// to every mailbox in turn, and each is accepted, answered and completed
// by the agent it was offered to.
const (
	sceneQueues   = 10
	sceneAgents   = 40
	sceneCapacity = 3
	sceneWorkers  = 2 // per instance
)

func sceneMailbox(q int) string { return fmt.Sprintf("support%d@boutique.example", q) }

func sceneOptions() *emailflow.Options {
	o := benchOptions()
	o.Mailboxes = nil
	for q := range sceneQueues {
		o.Mailboxes = append(o.Mailboxes, emailflow.Mailbox{Address: sceneMailbox(q), Name: "Service Client", Queue: fmt.Sprintf("q%d", q)})
	}
	return o
}

// sceneInstances starts n instances on one new schema (never used
// before, as pgbench's tables are made anew: see newSchema), each with a
// pool of its own (the server's settings: commits wait for the disk, as
// pgbench's), and sets up the scene's agents.
func sceneInstances(b *testing.B, n int) []*emailflow.Workspace {
	b.Helper()
	schema := newSchema(b)
	ctx := context.Background()
	out := make([]*emailflow.Workspace, n)
	for i := range out {
		cfg, err := pgxpool.ParseConfig(dsn())
		if err != nil {
			b.Fatal(err)
		}
		cfg.MaxConns = 2 * sceneWorkers
		pool, err := pgxpool.NewWithConfig(ctx, cfg)
		if err != nil {
			b.Fatal(err)
		}
		b.Cleanup(pool.Close)
		s, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
		if err != nil {
			b.Fatal(err)
		}
		if out[i], err = emailflow.New(emailflow.Ports{Store: s, Sender: &countSender{}}, sceneOptions()); err != nil {
			b.Fatal(err)
		}
	}
	for a := range sceneAgents {
		id := fmt.Sprintf("agent%02d", a)
		queues := []string{fmt.Sprintf("q%d", a%sceneQueues), fmt.Sprintf("q%d", (a+1)%sceneQueues)}
		if err := out[0].PutAgent(ctx, emailflow.Agent{ID: id, Queues: queues, Capacity: sceneCapacity}); err != nil {
			b.Fatal(err)
		}
		if err := out[a%n].As(id).SetStatus(ctx, emailflow.StatusReady); err != nil {
			b.Fatal(err)
		}
	}
	return out
}

// sceneLifecycle takes mail i to its mailbox and through its lifecycle
// on ws. An interaction left waiting (every agent of its queues at
// capacity) is taken by whoever pulls it: the worker moves on.
func sceneLifecycle(ctx context.Context, ws *emailflow.Workspace, raw []byte, i int64) error {
	to := sceneMailbox(int(i % sceneQueues))
	msg := bytes.Replace(benchMail(raw, i), []byte("support@boutique.example>"), []byte(to+">"), 1)
	it, err := ws.Ingest(ctx, to, bytes.NewReader(msg))
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	if it.OfferedTo == "" {
		return nil
	}
	return handle(ctx, ws, it)
}

// BenchmarkScene runs the scene on 1, 2 and 4 instances of 2 workers
// each, every instance with its own pool, and reports lifecycles/s in
// all. bench/pgscale.sh runs it beside pgbench.
func BenchmarkScene(b *testing.B) {
	raw := benchOrder(b)
	for _, n := range []int{1, 2, 4} {
		b.Run(fmt.Sprintf("instances=%d", n), func(b *testing.B) {
			in := sceneInstances(b, n)
			ctx := context.Background()
			var next atomic.Int64
			var failed atomic.Value
			var wg sync.WaitGroup
			b.ReportAllocs()
			b.ResetTimer()
			start := time.Now()
			for w := range n * sceneWorkers {
				wg.Go(func() {
					ws := in[w%n]
					for {
						i := next.Add(1)
						if i > int64(b.N) || failed.Load() != nil {
							return
						}
						if err := sceneLifecycle(ctx, ws, raw, i); err != nil {
							failed.Store(err)
							return
						}
					}
				})
			}
			wg.Wait()
			elapsed := time.Since(start)
			b.StopTimer()
			if err := failed.Load(); err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(float64(b.N)/elapsed.Seconds(), "lifecycles/s")
		})
	}
}
