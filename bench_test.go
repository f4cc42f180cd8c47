package emailflow_test

import (
	"bytes"
	"context"
	"fmt"
	"net/mail"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/compose"
	"github.com/emailflow/emailflow/store/memory"
)

// discard is a Sender that only counts, so the benchmark measures the
// Workspace, not a growing record of sent mail.
type discard struct{ n atomic.Int64 }

func (d *discard) Send(context.Context, string, []string, []byte) error {
	d.n.Add(1)
	return nil
}

// cpuClock reports the CPU time this process has used (all threads, user
// and system, so the garbage collector's work counts too). Per operation it
// is the cost of the work itself, which a busy machine inflates far less
// than wall time.
func cpuClock() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU adds the cpu-ns/op metric, from a cpuClock reading taken when
// the timer started.
func reportCPU(b *testing.B, start time.Duration) {
	b.ReportMetric(float64(cpuClock()-start)/float64(b.N), "cpu-ns/op")
}

// uniqueMail returns the French email with a Message-ID of its own, so that
// idempotent ingest does not short-circuit later rounds.
func uniqueMail(raw []byte, i int64) []byte {
	return bytes.Replace(raw, []byte("CAF3x9-helene-2291"), []byte("bench-"+strconv.FormatInt(i, 36)), 1)
}

func newBenchWorkspace(b testing.TB) (*emailflow.Workspace, *discard) {
	b.Helper()
	s := &discard{}
	ws, err := emailflow.New(emailflow.Ports{Store: memory.New(nil), Sender: s}, &emailflow.Options{
		Hostname:        "desk.boutique.example",
		Mailboxes:       []emailflow.Mailbox{{Address: support, Name: "Service Client", Queue: "support-fr"}},
		CompleteOnReply: true,
	})
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

// lifecycle takes one email through ingest → accept → reply → send. It
// returns the error rather than failing the benchmark: workers call it,
// and only the benchmark's own goroutine may stop it.
func lifecycle(ctx context.Context, ws *emailflow.Workspace, raw []byte) error {
	it, err := ws.Ingest(ctx, support, bytes.NewReader(raw))
	if err != nil {
		return fmt.Errorf("ingest: %w", err)
	}
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

// storeSpan is how many lifecycles a benchmark store holds before it is
// replaced (with the timer stopped). The memory store keeps everything, so
// a store grown to b.N lifecycles would make the garbage collector's
// marking, and so ns/op, depend on b.N; a span keeps the working set of an
// embedded desk (its open and recent interactions) constant. The replaced
// store stays reachable until the next replacement: a running desk's heap
// never drops to nothing, and letting it drop made the runtime hand the
// memory back to the system and fault it in again every span, a cost
// (some 14% of ns/op here) that only the benchmark had.
const storeSpan = 2000

// BenchmarkLifecycle: one inbound email ingested, offered, accepted,
// replied to and sent (which marks the inbound done), on the memory store.
func BenchmarkLifecycle(b *testing.B) {
	raw := readFile(b, "testdata/french-order.eml")
	ws, s := newBenchWorkspace(b)
	ctx := context.Background()
	sent := int64(0)
	var prev *emailflow.Workspace // see storeSpan
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuClock()
	for i := 0; i < b.N; i++ {
		if i > 0 && i%storeSpan == 0 {
			b.StopTimer()
			sent += s.n.Load()
			prev = ws
			ws, s = newBenchWorkspace(b)
			b.StartTimer()
		}
		if err := lifecycle(ctx, ws, uniqueMail(raw, int64(i))); err != nil {
			b.Fatal(err)
		}
	}
	b.StopTimer()
	runtime.KeepAlive(prev)
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "lifecycles/s")
	reportCPU(b, cpu)
	if sent+s.n.Load() != int64(b.N) {
		b.Fatalf("sent %d of %d", sent+s.n.Load(), b.N)
	}
}

// BenchmarkLifecycleParallel is BenchmarkLifecycle from GOMAXPROCS
// goroutines sharing one Workspace: the throughput of one desk on this
// machine. Like BenchmarkLifecycle it replaces the store every storeSpan
// lifecycles, with the timer stopped.
func BenchmarkLifecycleParallel(b *testing.B) {
	raw := readFile(b, "testdata/french-order.eml")
	ctx := context.Background()
	workers := runtime.GOMAXPROCS(0)
	b.ReportAllocs()
	b.ResetTimer()
	var elapsed time.Duration
	cpu := cpuClock()
	var prev *emailflow.Workspace // see storeSpan
	for done := 0; done < b.N; {
		b.StopTimer()
		ws, s := newBenchWorkspace(b)
		round := min(storeSpan, b.N-done)
		var next atomic.Int64
		var failed atomic.Bool
		var wg sync.WaitGroup
		b.StartTimer()
		start := time.Now()
		for range workers {
			wg.Go(func() {
				for !failed.Load() {
					i := next.Add(1)
					if i > int64(round) {
						return
					}
					if err := lifecycle(ctx, ws, uniqueMail(raw, int64(done)+i)); err != nil {
						b.Error(err) // b.Fatal only from the benchmark's goroutine
						failed.Store(true)
						return
					}
				}
			})
		}
		wg.Wait()
		elapsed += time.Since(start)
		if failed.Load() {
			b.FailNow()
		}
		if s.n.Load() != int64(round) {
			b.Fatalf("sent %d of %d", s.n.Load(), round)
		}
		done += round
		prev = ws
	}
	runtime.KeepAlive(prev)
	b.StopTimer()
	b.ReportMetric(float64(b.N)/elapsed.Seconds(), "lifecycles/s")
	reportCPU(b, cpu)
}

// BenchmarkParseRender is the mail work of one lifecycle alone: parse the
// same inbound email, build the reply and render it.
func BenchmarkParseRender(b *testing.B) {
	raw := readFile(b, "testdata/french-order.eml")
	from := mail.Address{Name: "Service Client", Address: support}
	opts := &compose.RenderOptions{Hostname: "desk.boutique.example", Now: func() time.Time { return time.Date(2026, 11, 26, 9, 0, 0, 0, time.UTC) }}
	b.ReportAllocs()
	b.ResetTimer()
	cpu := cpuClock()
	defer reportCPU(b, cpu)
	for i := 0; i < b.N; i++ {
		msg, err := compose.Parse(bytes.NewReader(uniqueMail(raw, int64(i))), nil)
		if err != nil {
			b.Fatal(err)
		}
		d := compose.Reply(msg, &compose.ReplyOptions{From: from, Own: []string{support}})
		if _, err := compose.Render(d, opts); err != nil {
			b.Fatal(err)
		}
	}
}
