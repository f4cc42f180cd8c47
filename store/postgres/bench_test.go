package postgres_test

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/routing"
	"github.com/emailflow/emailflow/store/postgres"
)

// countSender only counts what it is given.
type countSender struct{ n atomic.Int64 }

func (c *countSender) Send(context.Context, string, []string, []byte) error {
	c.n.Add(1)
	return nil
}

const benchMailbox = "support@boutique.example"

// benchWorkspace returns a Workspace on a fresh schema with two ready
// agents of unlimited capacity, as the root package's BenchmarkLifecycle.
func benchWorkspace(b *testing.B) (*emailflow.Workspace, *countSender) {
	b.Helper()
	s := &countSender{}
	ws, err := emailflow.New(emailflow.Ports{Store: freshStore(b), Sender: s}, benchOptions())
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	for _, id := range []string{"alice", "bob"} {
		if err := ws.PutAgent(ctx, emailflow.Agent{ID: id, Queues: []string{"support-fr"}, Capacity: 1 << 20}); err != nil {
			b.Fatal(err)
		}
		if err := ws.As(id).SetStatus(ctx, emailflow.StatusReady); err != nil {
			b.Fatal(err)
		}
	}
	return ws, s
}

// benchOptions are the Workspace options of the lifecycle benchmarks.
func benchOptions() *emailflow.Options {
	return &emailflow.Options{
		Hostname:        "desk.boutique.example",
		Mailboxes:       []emailflow.Mailbox{{Address: benchMailbox, Name: "Service Client", Queue: "support-fr"}},
		CompleteOnReply: true,
	}
}

// benchOrder reads the French email the lifecycle benchmarks take in.
func benchOrder(b testing.TB) []byte {
	b.Helper()
	raw, err := os.ReadFile("../../testdata/french-order.eml")
	if err != nil {
		b.Fatal(err)
	}
	return raw
}

// benchMail returns raw with a Message-ID of its own, so that idempotent
// ingest does not short-circuit later rounds.
func benchMail(raw []byte, i int64) []byte {
	return bytes.Replace(raw, []byte("CAF3x9-helene-2291"), []byte("pgbench-"+strconv.FormatInt(i, 36)), 1)
}

// lifecycle takes one email through ingest → accept → reply → send. It
// returns the error rather than failing the benchmark: RunParallel's
// goroutines call it, and only the benchmark's own may stop it.
func lifecycle(ctx context.Context, ws *emailflow.Workspace, raw []byte) error {
	it, err := ws.Ingest(ctx, benchMailbox, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
	return handle(ctx, ws, it)
}

// handle has the agent an interaction was offered to accept it, reply and
// send the reply.
func handle(ctx context.Context, ws *emailflow.Workspace, it *interaction.Interaction) error {
	if _, err := ws.As(it.OfferedTo).Accept(ctx, it.ID); err != nil {
		return fmt.Errorf("accept: %w", err)
	}
	r, err := ws.As(it.OfferedTo).Reply(ctx, it.ID)
	if err != nil {
		return fmt.Errorf("reply: %w", err)
	}
	if _, err := ws.As(it.OfferedTo).Send(ctx, r.ID, nil); err != nil {
		return fmt.Errorf("send: %w", err)
	}
	return nil
}

// BenchmarkLifecycle: one inbound email ingested, offered, accepted,
// replied to and sent (which marks the inbound done), on PostgreSQL.
func BenchmarkLifecycle(b *testing.B) {
	ws, s := benchWorkspace(b)
	ctx := context.Background()
	raw := benchOrder(b)
	mails := make([][]byte, b.N)
	for i := range mails {
		mails[i] = benchMail(raw, int64(i))
	}
	b.ReportAllocs()
	b.ResetTimer()
	for i := range b.N {
		if err := lifecycle(ctx, ws, mails[i]); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	if s.n.Load() != int64(b.N) {
		b.Fatalf("sent %d of %d", s.n.Load(), b.N)
	}
}

// BenchmarkLifecycleParallel is BenchmarkLifecycle from GOMAXPROCS×4
// goroutines: the throughput of one instance against the database.
func BenchmarkLifecycleParallel(b *testing.B) {
	ws, s := benchWorkspace(b)
	ctx := context.Background()
	raw := benchOrder(b)
	var n atomic.Int64
	b.SetParallelism(4)
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := lifecycle(ctx, ws, benchMail(raw, n.Add(1))); err != nil {
				b.Error(err) // b.Fatal only from the benchmark's goroutine
				return
			}
		}
	})
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "lifecycles/s")
	if !b.Failed() && s.n.Load() != int64(b.N) {
		b.Fatalf("sent %d of %d", s.n.Load(), b.N)
	}
}

var benchSkills = []string{"billing", "returns", "vip", "delivery", "b2b"}

// routingScene fills a store with waiting interactions and agents, half
// of them busy at capacity (3), like the root package's routing benchmark.
func routingScene(b testing.TB, s *postgres.Store, waiting, agents int) (ids, free []string) {
	b.Helper()
	ctx := context.Background()
	rng := rand.New(rand.NewPCG(uint64(waiting), uint64(agents)))
	t0 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(tx emailflow.Tx) error {
		for i := range agents {
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
			for j := range a.Capacity {
				it, _ := interaction.New(fmt.Sprintf("busy-%05d-%d", i, j), interaction.KindInbound, "system", t0)
				it.State, it.Owner, it.Queue = interaction.StateHandling, a.ID, "q"
				if err := tx.CreateInteraction(ctx, it); err != nil {
					return err
				}
			}
		}
		for i := range waiting {
			it, _ := interaction.New(fmt.Sprintf("wait-%06d", i), interaction.KindInbound, "system", t0)
			it.State, it.Queue, it.Priority = interaction.StateQueued, "q", rng.IntN(3)
			it.QueuedAt = t0.Add(time.Duration(rng.IntN(86400)) * time.Second)
			it.Skills = map[string]int{benchSkills[rng.IntN(5)]: 1 + rng.IntN(2)}
			if err := tx.CreateInteraction(ctx, it); err != nil {
				return err
			}
			ids = append(ids, it.ID)
		}
		return nil
	})
	if err != nil {
		b.Fatal(err)
	}
	if _, err := s.Pool().Exec(ctx, "ANALYZE"); err != nil {
		b.Fatal(err)
	}
	return ids, free
}

// BenchmarkRoutingDecision measures the reads of the two routing
// decisions in a read-only transaction, alternately: which agent a
// waiting interaction goes to (load it, read the queue's available agents
// a page of 8 at a time until one is eligible) and which waiting
// interaction a free agent gets (load the agent and its load, read the
// queue's waiting interactions a page of 8 at a time until one fits).
// With -short (CI's smoke run) only the smallest scene is built.
func BenchmarkRoutingDecision(b *testing.B) {
	waitings, agentses := []int{1_000, 10_000}, []int{100, 1_000}
	if testing.Short() {
		waitings, agentses = waitings[:1], agentses[:1]
	}
	for _, waiting := range waitings {
		for _, agents := range agentses {
			var s *postgres.Store
			var ids, free []string
			parent := b
			b.Run(fmt.Sprintf("waiting=%d/agents=%d", waiting, agents), func(b *testing.B) {
				if s == nil {
					st := sceneTB{b, parent}
					s = freshStore(st)
					ids, free = routingScene(st, s, waiting, agents)
				}
				ctx := context.Background()
				now := time.Now()
				lat := make([]time.Duration, 0, b.N)
				b.ReportAllocs()
				b.ResetTimer()
				for i := range b.N {
					start := time.Now()
					err := s.View(ctx, func(tx emailflow.Tx) error {
						if i%2 == 0 {
							return decideAgent(ctx, tx, ids[i%len(ids)], now)
						}
						return decideNext(ctx, tx, free[i%len(free)], now)
					})
					lat = append(lat, time.Since(start))
					if err != nil {
						b.Fatal(err)
					}
				}
				b.StopTimer()
				slices.Sort(lat)
				b.ReportMetric(float64(lat[len(lat)*99/100].Nanoseconds()), "p99-ns")
			})
		}
	}
}

// BenchmarkAvailableAgentsBusyAhead measures the worst case of
// AvailableAgents: the longest idle agents of the queue are all at
// capacity, so the first page of free agents comes after busy ones, each
// skipped at the cost of one probe of the load index.
// With -short (CI's smoke run) only the two smallest scenes are built.
func BenchmarkAvailableAgentsBusyAhead(b *testing.B) {
	sizes := []int{0, 100, 1_000, 5_000}
	if testing.Short() {
		sizes = sizes[:2]
	}
	for _, busy := range sizes {
		var s *postgres.Store
		parent := b
		b.Run(fmt.Sprintf("busy=%d", busy), func(b *testing.B) {
			ctx := context.Background()
			if s == nil {
				s = freshStore(sceneTB{b, parent})
				if err := busyAheadScene(ctx, s, busy); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportAllocs()
			b.ResetTimer()
			for range b.N {
				err := s.View(ctx, func(tx emailflow.Tx) error {
					page, err := tx.AvailableAgents(ctx, "q", 0, 8)
					if err == nil && (len(page) != 8 || page[0].ID != fmt.Sprintf("agent-%05d", busy)) {
						err = fmt.Errorf("got %d agents", len(page))
					}
					return err
				})
				if err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func decideAgent(ctx context.Context, tx emailflow.Tx, id string, now time.Time) error {
	it, err := tx.Interaction(ctx, id)
	if err != nil {
		return err
	}
	item := routing.Item{ID: it.ID, Queue: it.Queue, Priority: it.Priority, QueuedAt: it.QueuedAt, Skills: it.Skills}
	for offset, size := 0, 8; ; offset, size = offset+size, min(size*2, 256) {
		page, err := tx.AvailableAgents(ctx, it.Queue, offset, size)
		if err != nil || routing.PickAgent(nil, &item, page, now) >= 0 || len(page) < size {
			return err
		}
	}
}

func decideNext(ctx context.Context, tx emailflow.Tx, agentID string, now time.Time) error {
	a, err := tx.Agent(ctx, agentID)
	if err != nil {
		return err
	}
	load, err := tx.Load(ctx, agentID)
	if err != nil {
		return err
	}
	ra := routing.Agent{ID: a.ID, Ready: true, Skills: a.Skills, Capacity: a.MaxLoad(), Load: load, IdleSince: a.IdleSince}
	for offset, size := 0, 8; ; offset, size = offset+size, min(size*2, 256) {
		page, err := tx.Waiting(ctx, "q", offset, size)
		if err != nil || routing.PickItem(nil, &ra, page, now) >= 0 || len(page) < size {
			return err
		}
	}
}

// BenchmarkIngestReferences: a customer's email whose References list n
// ids, taken in on PostgreSQL: a reply to one of our emails (ours the
// newest id), or ids we never sent (a new conversation). Ingest looks up
// In-Reply-To and the newest 20 References in one query before its write
// transaction, so 80,000 ids cost what parsing and storing them costs,
// not 80,000 look-ups.
func BenchmarkIngestReferences(b *testing.B) {
	for _, tc := range []struct {
		n     int
		reply bool
	}{{1, true}, {80_000, true}, {80_000, false}} {
		name := fmt.Sprintf("refs=%d/reply=%v", tc.n, tc.reply)
		b.Run(name, func(b *testing.B) {
			ws, _ := benchWorkspace(b)
			ctx := context.Background()
			// A conversation of ours for the replies to join.
			it, err := ws.Ingest(ctx, benchMailbox, bytes.NewReader(benchMail(benchOrder(b), 0)))
			if err != nil {
				b.Fatal(err)
			}
			if _, err := ws.As(it.OfferedTo).Accept(ctx, it.ID); err != nil {
				b.Fatal(err)
			}
			r, err := ws.As(it.OfferedTo).Reply(ctx, it.ID)
			if err != nil {
				b.Fatal(err)
			}
			sent, err := ws.As(it.OfferedTo).Send(ctx, r.ID, nil)
			if err != nil {
				b.Fatal(err)
			}
			d := sent.Email
			var refs bytes.Buffer
			refs.WriteString("References:")
			for i := range tc.n - 1 {
				fmt.Fprintf(&refs, " <%x@x>", i)
				if i%50 == 49 {
					refs.WriteString("\r\n")
				}
			}
			last := "<last@x>"
			if tc.reply {
				last = "<" + d.MessageID + ">"
			}
			refs.WriteString(" " + last + "\r\n")
			mails := make([][]byte, b.N)
			for i := range mails {
				mails[i] = fmt.Appendf(nil, "From: helene.dupre@exemple.fr\r\nTo: %s\r\n%sSubject: Re: colis\r\nMessage-ID: <refs-%d@exemple.fr>\r\n\r\nToujours rien.\r\n", benchMailbox, refs.Bytes(), i)
			}
			b.SetBytes(int64(len(mails[0])))
			b.ReportAllocs()
			b.ResetTimer()
			for i := range b.N {
				got, err := ws.Ingest(ctx, benchMailbox, bytes.NewReader(mails[i]))
				if err != nil {
					b.Fatal(err)
				}
				if (got.ThreadID == it.ThreadID) != tc.reply {
					b.Fatal("threaded wrong")
				}
			}
		})
	}
}

// busyAheadScene stores busy agents at capacity, the longest idle, then
// 100 free ones, all in queue q.
func busyAheadScene(ctx context.Context, s *postgres.Store, busy int) error {
	t0 := time.Date(2026, 11, 26, 8, 0, 0, 0, time.UTC)
	err := s.Update(ctx, func(tx emailflow.Tx) error {
		for i := range busy + 100 {
			a := &emailflow.Agent{ID: fmt.Sprintf("agent-%05d", i), Status: emailflow.StatusReady, Queues: []string{"q"}, IdleSince: t0.Add(time.Duration(i) * time.Second)}
			if err := tx.PutAgent(ctx, a); err != nil {
				return err
			}
			if i < busy {
				it, _ := interaction.New(fmt.Sprintf("busy-%05d", i), interaction.KindInbound, "system", t0)
				it.State, it.Owner, it.Queue = interaction.StateHandling, a.ID, "q"
				if err := tx.CreateInteraction(ctx, it); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	_, err = s.Pool().Exec(ctx, "ANALYZE")
	return err
}

// sceneTB lets a sub-benchmark keep the scene it stored across the runs
// the testing package makes of it (b.N = 1 first, then the measured
// ones): failures go to the run at hand, while the scene's context and
// cleanups belong to the parent benchmark, which ends after all of them.
// Storing the larger scenes takes longer than measuring them.
type sceneTB struct {
	testing.TB
	parent testing.TB
}

// Cleanup defers f to the end of the parent benchmark.
func (s sceneTB) Cleanup(f func()) { s.parent.Cleanup(f) }

// Context is the parent benchmark's, alive until its end.
func (s sceneTB) Context() context.Context { return s.parent.Context() }
