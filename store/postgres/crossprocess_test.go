package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/postgres"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// instance is one application process: its own pool, Store and Workspace
// on the shared schema.
type instance struct {
	store *postgres.Store
	ws    *emailflow.Workspace
}

// instances starts n instances on one fresh schema, each with its own
// connection pool, as separate processes would.
func instances(t *testing.T, n int) []instance {
	t.Helper()
	return startInstances(t, n, postgres.Options{}, emailflow.Ports{Sender: &transport.Sender{}}, &emailflow.Options{
		// Mail to sales@ waits in queue "sales", the rest in "default".
		Mailboxes: []emailflow.Mailbox{{Address: "sales@boutique.example", Queue: "sales"}},
	})
}

// startInstances starts n instances on one fresh schema, each with a pool
// of its own: a Store made with so (its Schema set here) and a Workspace
// with ports (its Store set here) and o.
func startInstances(t *testing.T, n int, so postgres.Options, ports emailflow.Ports, o *emailflow.Options) []instance {
	t.Helper()
	so.Schema = freshSchema(t)
	out := make([]instance, n)
	for i := range out {
		pool, err := connect(t.Context(), 4)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(pool.Close)
		s, err := postgres.New(t.Context(), pool, &so)
		if err != nil {
			t.Fatalf("postgres.New: %v", err)
		}
		p := ports
		p.Store = s
		ws, err := emailflow.New(p, o)
		if err != nil {
			t.Fatalf("emailflow.New: %v", err)
		}
		out[i] = instance{store: s, ws: ws}
	}
	return out
}

func mailN(i int) string {
	return fmt.Sprintf("From: customer%d@exemple.fr\r\nTo: support@boutique.example\r\nSubject: question %d\r\nMessage-ID: <q%d@exemple.fr>\r\n\r\nBonjour\r\n", i, i, i)
}

func ingest(t *testing.T, ws *emailflow.Workspace, i int) *interaction.Interaction {
	t.Helper()
	it, err := ws.Ingest(t.Context(), "support@boutique.example", strings.NewReader(mailN(i)))
	if err != nil {
		t.Fatalf("ingest %d: %v", i, err)
	}
	return it
}

// TestCrossProcessAccept: two instances race to accept the same offer,
// as the offered agent from two desktops and as a colleague it is not
// offered to: exactly one accept wins; the others get ErrInvalidTransition
// (the offer is gone) or ErrForbidden (not theirs), never a second owner.
func TestCrossProcessAccept(t *testing.T) {
	rounds := 60
	if testing.Short() {
		rounds = 10
	}
	in := instances(t, 2)
	ctx := t.Context()
	for _, a := range []emailflow.Agent{{ID: "ann", Queues: []string{"default"}, Capacity: 1000}, {ID: "bob", Queues: []string{"default"}}} {
		if err := in[0].ws.PutAgent(ctx, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := in[1].ws.As("ann").SetStatus(ctx, emailflow.StatusReady); err != nil {
		t.Fatal(err)
	}
	type racer struct {
		ws    *emailflow.Workspace
		agent string
	}
	racers := []racer{{in[0].ws, "ann"}, {in[1].ws, "ann"}, {in[1].ws, "bob"}, {in[0].ws, "bob"}}
	wins := map[int]int{}
	for r := range rounds {
		it := ingest(t, in[r%2].ws, r)
		if it.State != interaction.StateOffered || it.OfferedTo != "ann" {
			t.Fatalf("round %d: ingested %s offered to %q, want offered to ann", r, it.State, it.OfferedTo)
		}
		errs := make([]error, len(racers))
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i, rc := range racers {
			wg.Go(func() {
				<-start
				_, errs[i] = rc.ws.As(rc.agent).Accept(ctx, it.ID)
			})
		}
		close(start)
		wg.Wait()
		winner := -1
		for i, err := range errs {
			switch {
			case err == nil:
				if winner >= 0 {
					t.Fatalf("round %d: racers %d and %d both accepted", r, winner, i)
				}
				if racers[i].agent != "ann" {
					t.Fatalf("round %d: %s accepted an offer made to ann", r, racers[i].agent)
				}
				winner = i
			case errors.Is(err, emailflow.ErrInvalidTransition), errors.Is(err, emailflow.ErrForbidden):
			default:
				t.Fatalf("round %d: racer %d: %v, want nil, ErrInvalidTransition or ErrForbidden", r, i, err)
			}
		}
		if winner < 0 {
			t.Fatalf("round %d: nobody accepted", r)
		}
		wins[winner]++
		got, err := in[(r+1)%2].ws.As("ann").Interaction(ctx, it.ID)
		if err != nil {
			t.Fatal(err)
		}
		accepts := 0
		for _, e := range got.History {
			if e.Action == string(interaction.EventAccept) {
				accepts++
			}
		}
		if got.State != interaction.StateHandling || got.Owner != "ann" || accepts != 1 {
			t.Fatalf("round %d: %s owned by %q with %d accepts in its history, want handling by ann, 1 accept", r, got.State, got.Owner, accepts)
		}
	}
	t.Logf("%d rounds; wins by racer: %v", rounds, wins)
}

// TestCrossProcessCapacity: two instances take in mail at once from
// several goroutines each, for two queues that every agent serves;
// whatever the interleaving, no agent is offered more than its capacity,
// and every free place is filled. (Routing decisions of one queue take
// turns on the queue's lock; across two queues only the agent's row lock
// and the load check keep the capacity.)
func TestCrossProcessCapacity(t *testing.T) {
	rounds := 8
	if testing.Short() {
		rounds = 2
	}
	const perInstance, goroutines = 12, 3
	capacity := map[string]int{"ann": 1, "bob": 2, "carol": 3}
	for r := range rounds {
		in := instances(t, 2)
		ctx := t.Context()
		for id, c := range capacity {
			if err := in[0].ws.PutAgent(ctx, emailflow.Agent{ID: id, Queues: []string{"default", "sales"}, Capacity: c}); err != nil {
				t.Fatal(err)
			}
			if err := in[1].ws.As(id).SetStatus(ctx, emailflow.StatusReady); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for p := range in {
			for g := range goroutines {
				wg.Go(func() {
					for i := g; i < perInstance; i += goroutines {
						n := p*perInstance + i
						mailbox := "support@boutique.example"
						if n%2 == 1 {
							mailbox = "sales@boutique.example"
						}
						if _, err := in[p].ws.Ingest(ctx, mailbox, strings.NewReader(mailN(n))); err != nil {
							t.Errorf("instance %d: ingest %d: %v", p, n, err)
							return
						}
					}
				})
			}
		}
		wg.Wait()
		if t.Failed() {
			return
		}
		total := 0
		err := in[0].store.View(ctx, func(tx emailflow.Tx) error {
			for id, c := range capacity {
				load, err := tx.Load(ctx, id)
				if err != nil {
					return err
				}
				if load != c {
					t.Errorf("round %d: %s has %d interactions, capacity %d", r, id, load, c)
				}
				total += load
			}
			queued, err := tx.Waiting(ctx, "default", 0, 0)
			if err != nil {
				return err
			}
			sales, err := tx.Waiting(ctx, "sales", 0, 0)
			if err != nil {
				return err
			}
			if want := 2*perInstance - total; len(queued)+len(sales) != want {
				t.Errorf("round %d: %d waiting, want %d", r, len(queued)+len(sales), want)
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
		if t.Failed() {
			return
		}
	}
}

// TestCrossProcessRouting: mail arrives at two instances while eight
// agents, each working through both instances, accept, decline and
// complete at random: every interaction ends done with one accept, and a
// watcher never sees an agent above capacity in the committed state.
func TestCrossProcessRouting(t *testing.T) {
	mails := 160
	if testing.Short() {
		mails = 40
	}
	const agents = 8
	in := instances(t, 2)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	if err := in[0].ws.PutAgent(ctx, emailflow.Agent{ID: "admin", Roles: []emailflow.Role{emailflow.RoleAdmin}}); err != nil {
		t.Fatal(err) // reads the outcome: the admin sees every interaction
	}
	capacity := map[string]int{}
	for i := range agents {
		id := fmt.Sprintf("agent-%d", i)
		capacity[id] = 1 + i%3
		if err := in[i%2].ws.PutAgent(ctx, emailflow.Agent{ID: id, Queues: []string{"default"}, Capacity: capacity[id]}); err != nil {
			t.Fatal(err)
		}
		if err := in[(i+1)%2].ws.As(id).SetStatus(ctx, emailflow.StatusReady); err != nil {
			t.Fatal(err)
		}
	}

	var wg sync.WaitGroup
	var done atomic.Int64
	stop := make(chan struct{})
	var violations atomic.Int64
	var watcher sync.WaitGroup
	watcher.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(5 * time.Millisecond):
			}
			err := in[0].store.View(ctx, func(tx emailflow.Tx) error {
				for id, c := range capacity {
					load, err := tx.Load(ctx, id)
					if err != nil {
						return err
					}
					if load > c {
						violations.Add(1)
						t.Errorf("%s has %d interactions, capacity %d", id, load, c)
					}
				}
				return nil
			})
			if err != nil && ctx.Err() == nil {
				t.Error(err)
			}
		}
	})
	for p := range in {
		for g := range 2 {
			wg.Go(func() {
				for i := g; i < mails/2; i += 2 {
					n := p*mails/2 + i
					if _, err := in[p].ws.Ingest(ctx, "support@boutique.example", strings.NewReader(mailN(n))); err != nil {
						t.Errorf("ingest %d: %v", n, err)
						cancel()
						return
					}
				}
			})
		}
	}
	for i := range agents {
		id := fmt.Sprintf("agent-%d", i)
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(i), 11))
			for k := 0; done.Load() < int64(mails) && ctx.Err() == nil; k++ {
				ws := in[k%2].ws // each action through either instance
				offers, err := ws.As(id).Interactions(ctx, emailflow.Query{OfferedTo: id, States: []interaction.State{interaction.StateOffered}})
				if err != nil {
					t.Error(err)
					return
				}
				if len(offers) == 0 {
					time.Sleep(2 * time.Millisecond)
					continue
				}
				for _, o := range offers {
					if rng.IntN(5) == 0 {
						if err := ws.As(id).Decline(ctx, o.ID, "busy"); err != nil && !errors.Is(err, emailflow.ErrInvalidTransition) {
							t.Errorf("%s declines %s: %v", id, o.ID, err)
						}
						continue
					}
					if _, err := ws.As(id).Accept(ctx, o.ID); err != nil {
						t.Errorf("%s accepts %s: %v", id, o.ID, err)
						continue
					}
					if err := in[(k+1)%2].ws.As(id).MarkDone(ctx, o.ID); err != nil {
						t.Errorf("%s completes %s: %v", id, o.ID, err)
						continue
					}
					done.Add(1)
				}
			}
		})
	}
	wg.Wait()
	close(stop)
	watcher.Wait()
	if err := ctx.Err(); err != nil {
		t.Fatalf("only %d of %d interactions done in time", done.Load(), mails)
	}
	all, err := in[1].ws.As("admin").Interactions(ctx, emailflow.Query{Kind: interaction.KindInbound})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != mails || done.Load() != int64(mails) {
		t.Fatalf("%d interactions, %d done; want %d", len(all), done.Load(), mails)
	}
	for _, it := range all {
		accepts, completes := 0, 0
		for _, h := range it.History {
			switch h.Action {
			case string(interaction.EventAccept):
				accepts++
			case string(interaction.EventComplete):
				completes++
			}
		}
		if it.State != interaction.StateDone || accepts != 1 || completes != 1 {
			t.Fatalf("%s: %s with %d accepts and %d completes, want done, 1 and 1", it.ID, it.State, accepts, completes)
		}
	}
	if violations.Load() > 0 {
		t.Fatalf("%d capacity violations seen", violations.Load())
	}
}

// TestOrderedEvents: with Options.OrderedEvents, a process polling the
// event log while two others append to it, with pauses inside their
// transactions, sees every event: none commits behind one already seen.
func TestOrderedEvents(t *testing.T) {
	schema := freshSchema(t)
	ctx := t.Context()
	stores := make([]*postgres.Store, 3)
	for i := range stores {
		pool, err := connect(ctx, 4)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pool.Close)
		if stores[i], err = postgres.New(ctx, pool, &postgres.Options{Schema: schema, OrderedEvents: true}); err != nil {
			t.Fatal(err)
		}
	}
	const writers, each = 4, 15
	var wg sync.WaitGroup
	for w := range writers {
		s := stores[w%2]
		wg.Go(func() {
			rng := rand.New(rand.NewPCG(uint64(w), 3))
			for j := range each {
				err := s.Update(ctx, func(tx emailflow.Tx) error {
					for k := range 2 {
						e := emailflow.Event{Type: emailflow.EventUpdated, InteractionID: fmt.Sprintf("w%d-%d-%d", w, j, k), Actor: "system", At: time.Now()}
						if err := tx.AppendEvent(ctx, &e); err != nil {
							return err
						}
						time.Sleep(time.Duration(rng.IntN(1500)) * time.Microsecond)
					}
					return nil
				})
				if err != nil {
					t.Error(err)
					return
				}
			}
		})
	}
	seen := map[int64]bool{}
	var last int64
	poll := func() {
		err := stores[2].View(ctx, func(tx emailflow.Tx) error {
			evs, err := tx.Events(ctx, last, 0)
			for _, e := range evs {
				seen[e.Seq], last = true, e.Seq
			}
			return err
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for polling := true; polling; {
		select {
		case <-done:
			polling = false
		default:
			poll()
		}
	}
	poll()
	var all []emailflow.Event
	err := stores[2].View(ctx, func(tx emailflow.Tx) error {
		var err error
		all, err = tx.Events(ctx, 0, 0)
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != writers*each*2 {
		t.Fatalf("%d events, want %d", len(all), writers*each*2)
	}
	missed := 0
	for _, e := range all {
		if !seen[e.Seq] {
			missed++
		}
	}
	if missed > 0 {
		t.Fatalf("the poller missed %d of %d events", missed, len(all))
	}
}
