package postgres_test

import (
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

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
	schema := freshSchema(t)
	out := make([]instance, n)
	for i := range out {
		pool, err := connect(t.Context(), 4)
		if err != nil {
			t.Fatalf("connect: %v", err)
		}
		t.Cleanup(pool.Close)
		s, err := postgres.New(t.Context(), pool, &postgres.Options{Schema: schema})
		if err != nil {
			t.Fatalf("postgres.New: %v", err)
		}
		ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &transport.Sender{}}, nil)
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
	if err := in[1].ws.SetStatus(ctx, "ann", emailflow.StatusReady); err != nil {
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
				_, errs[i] = rc.ws.Accept(ctx, rc.agent, it.ID)
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
		got, err := in[(r+1)%2].ws.Interaction(ctx, it.ID)
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
// several goroutines each; whatever the interleaving, no agent is offered
// more than its capacity, and every free place is filled.
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
			if err := in[0].ws.PutAgent(ctx, emailflow.Agent{ID: id, Queues: []string{"default"}, Capacity: c}); err != nil {
				t.Fatal(err)
			}
			if err := in[1].ws.SetStatus(ctx, id, emailflow.StatusReady); err != nil {
				t.Fatal(err)
			}
		}
		var wg sync.WaitGroup
		for p := range in {
			for g := range goroutines {
				wg.Go(func() {
					for i := g; i < perInstance; i += goroutines {
						n := p*perInstance + i
						if _, err := in[p].ws.Ingest(ctx, "support@boutique.example", strings.NewReader(mailN(n))); err != nil {
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
			if want := 2*perInstance - total; len(queued) != want {
				t.Errorf("round %d: %d waiting, want %d", r, len(queued), want)
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
