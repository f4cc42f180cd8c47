package postgres_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/store/postgres"
	transport "github.com/emailflow/emailflow/transport/memory"
)

// roomRow is an agent's row in agent_queues, with the load counted.
type roomRow struct {
	queue    string
	ready    bool
	idle     time.Time
	maxLoad  int
	hasRoom  bool
	countedN int
}

// roomRows reads agent's rows in agent_queues, in queue order, each with
// the agent's load counted from interactions.
func roomRows(t *testing.T, s *postgres.Store, agent string) []roomRow {
	t.Helper()
	rows, err := s.Pool().Query(context.Background(), fmt.Sprintf(`SELECT q.queue, q.ready, q.idle_since, q.max_load, q.has_room,
		(SELECT count(*)::int FROM %[1]s.interactions WHERE load_agent = q.agent_id)
		FROM %[1]s.agent_queues q WHERE q.agent_id = $1 ORDER BY q.queue`, `"`+s.Schema()+`"`), agent)
	require.NoError(t, err)
	defer rows.Close()
	var out []roomRow
	for rows.Next() {
		var r roomRow
		require.NoError(t, rows.Scan(&r.queue, &r.ready, &r.idle, &r.maxLoad, &r.hasRoom, &r.countedN))
		r.idle = r.idle.UTC()
		out = append(out, r)
	}
	require.NoError(t, rows.Err())
	return out
}

// assertRoomExact checks that every row of agent in agent_queues has
// has_room exactly when the agent's load is below max_load.
func assertRoomExact(t *testing.T, s *postgres.Store, agent string) {
	t.Helper()
	for _, r := range roomRows(t, s, agent) {
		assert.Equal(t, r.countedN < r.maxLoad, r.hasRoom, "%s in %s: has_room with load %d of %d", agent, r.queue, r.countedN, r.maxLoad)
	}
}

// TestPutAgentInPlace: within one transaction that locked an agent by
// reading it, PutAgent writes its rows in place when its queues,
// capacity and readiness are as read, and rewrites them otherwise;
// either way the routing rows end as the agent says, with has_room from
// the load as this transaction changed it.
func TestPutAgentInPlace(t *testing.T) {
	idle := time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)
	tests := []struct {
		name     string
		change   func(a *emailflow.Agent)
		offer    int // interactions offered to ann in the transaction, before PutAgent
		after    int // and after it
		wantQ    []string
		wantMax  int
		wantRdy  bool
		wantRoom bool
	}{
		{"idle only, load none", func(a *emailflow.Agent) { a.IdleSince = idle }, 0, 0, []string{"a", "b"}, 2, true, true},
		{"idle only, load up to capacity", func(a *emailflow.Agent) { a.IdleSince = idle }, 2, 0, []string{"a", "b"}, 2, true, false},
		{"idle only, offered after", func(a *emailflow.Agent) { a.IdleSince = idle }, 1, 1, []string{"a", "b"}, 2, true, false},
		{"skills only", func(a *emailflow.Agent) { a.IdleSince = idle; a.Skills = map[string]int{"fr": 3} }, 1, 0, []string{"a", "b"}, 2, true, true},
		{"queues shuffled and repeated", func(a *emailflow.Agent) { a.IdleSince = idle; a.Queues = []string{"b", "a", "b"} }, 0, 0, []string{"a", "b"}, 2, true, true},
		{"queue dropped", func(a *emailflow.Agent) { a.IdleSince = idle; a.Queues = []string{"b"} }, 0, 0, []string{"b"}, 2, true, true},
		{"queue added", func(a *emailflow.Agent) { a.IdleSince = idle; a.Queues = []string{"a", "b", "c"} }, 1, 0, []string{"a", "b", "c"}, 2, true, true},
		{"capacity down to the load", func(a *emailflow.Agent) { a.IdleSince = idle; a.Capacity = 1 }, 1, 0, []string{"a", "b"}, 1, true, false},
		{"not ready", func(a *emailflow.Agent) { a.IdleSince = idle; a.Status = emailflow.StatusNotReady }, 0, 0, []string{"a", "b"}, 2, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ctx := t.Context()
			s := freshStore(t)
			require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
				return tx.PutAgent(ctx, &emailflow.Agent{ID: "ann", Status: emailflow.StatusReady, Queues: []string{"a", "b"}, Capacity: 2})
			}))
			n := 0
			offer := func(tx emailflow.Tx, k int) error {
				for range k {
					n++
					if err := tx.CreateInteraction(ctx, offeredTo(fmt.Sprintf("i%d", n), "ann")); err != nil {
						return err
					}
				}
				return nil
			}
			require.NoError(t, s.Update(ctx, func(tx emailflow.Tx) error {
				a, err := tx.Agent(ctx, "ann")
				require.NoError(t, err)
				if err := offer(tx, tc.offer); err != nil {
					return err
				}
				again, err := tx.Agent(ctx, "ann")
				require.NoError(t, err)
				assert.Equal(t, a, again, "read again as read")
				load, err := tx.Load(ctx, "ann")
				require.NoError(t, err)
				assert.Equal(t, tc.offer, load, "load with this transaction's offers")
				tc.change(a)
				if err := tx.PutAgent(ctx, a); err != nil {
					return err
				}
				got, err := tx.Agent(ctx, "ann")
				require.NoError(t, err)
				assert.Equal(t, a.Skills, got.Skills, "read back as written")
				assert.Equal(t, a.Status, got.Status, "read back as written")
				return offer(tx, tc.after)
			}))
			rows := roomRows(t, s, "ann")
			var queues []string
			for _, r := range rows {
				queues = append(queues, r.queue)
				assert.Equal(t, tc.wantRdy, r.ready, r.queue)
				assert.Equal(t, idle, r.idle, r.queue)
				assert.Equal(t, tc.wantMax, r.maxLoad, r.queue)
				assert.Equal(t, tc.wantRoom, r.hasRoom, r.queue)
				assert.Equal(t, tc.offer+tc.after, r.countedN, r.queue)
			}
			assert.Equal(t, tc.wantQ, queues)
			require.NoError(t, s.View(ctx, func(tx emailflow.Tx) error {
				a, err := tx.Agent(ctx, "ann")
				require.NoError(t, err)
				assert.Equal(t, idle, a.IdleSince)
				assert.Equal(t, tc.wantMax, a.MaxLoad())
				return nil
			}))
		})
	}
}

// TestCrossProcessSendAndPull: an agent at capacity 1 sends the reply
// that completes their interaction on one instance, and is offered the
// next waiting interaction in the same transaction (which reads the agent
// and its load once, under the agent's row lock, and decides on that load
// to the end: freeing, idle again, the next offer, has_room), while mail
// for the same queue arrives on another instance whose routing looks for
// an agent with room. Whatever the interleaving, the agent ends with
// exactly one interaction, the other waits, and has_room agrees with the
// load. (TestHeldAgentAcrossProcesses pins the interleavings one by one.)
func TestCrossProcessSendAndPull(t *testing.T) {
	rounds := 12
	if testing.Short() {
		rounds = 3
	}
	ctx := t.Context()
	for r := range rounds {
		// A schema per round, so that rounds do not share a queue.
		schema := freshSchema(t)
		var in [2]instance
		var pools []*pgxpool.Pool
		for i := range in {
			pool, err := connect(ctx, 4)
			require.NoError(t, err)
			t.Cleanup(pool.Close)
			pools = append(pools, pool)
			s, err := postgres.New(ctx, pool, &postgres.Options{Schema: schema})
			require.NoError(t, err)
			ws, err := emailflow.New(emailflow.Ports{Store: s, Sender: &transport.Sender{}}, &emailflow.Options{CompleteOnReply: true})
			require.NoError(t, err)
			in[i] = instance{store: s, ws: ws}
		}
		const ann = "ann"
		require.NoError(t, in[1].ws.PutAgent(ctx, emailflow.Agent{ID: ann, Queues: []string{"default"}, Capacity: 1}))
		require.NoError(t, in[0].ws.As(ann).SetStatus(ctx, emailflow.StatusReady))
		mail := func(i int) *strings.Reader {
			return strings.NewReader(fmt.Sprintf("From: customer%d@exemple.fr\r\nTo: support@boutique.example\r\nSubject: question %d\r\nMessage-ID: <sp%d@exemple.fr>\r\n\r\nBonjour\r\n", i, i, i))
		}
		ingestTo := func(p, i int) *interaction.Interaction {
			it, err := in[p].ws.Ingest(ctx, "support@boutique.example", mail(i))
			require.NoError(t, err)
			return it
		}
		first := ingestTo(0, 0)
		require.Equal(t, ann, first.OfferedTo, "round %d: the first mail goes to the only agent ready", r)
		_, err := in[0].ws.As(ann).Accept(ctx, first.ID)
		require.NoError(t, err)
		draft, err := in[0].ws.As(ann).Reply(ctx, first.ID)
		require.NoError(t, err)
		waiting := ingestTo(1, 1)
		require.Equal(t, interaction.StateQueued, waiting.State, "round %d: ann is full", r)

		var wg sync.WaitGroup
		var sendErr, ingestErr error
		var third *interaction.Interaction
		wg.Go(func() { _, sendErr = in[0].ws.As(ann).Send(ctx, draft.ID, nil) })
		wg.Go(func() { third, ingestErr = in[1].ws.Ingest(ctx, "support@boutique.example", mail(2)) })
		wg.Wait()
		require.NoError(t, sendErr, "round %d", r)
		require.NoError(t, ingestErr, "round %d", r)

		require.NoError(t, in[1].store.View(ctx, func(tx emailflow.Tx) error {
			load, err := tx.Load(ctx, ann)
			require.NoError(t, err)
			assert.Equal(t, 1, load, "round %d: %s's one place is taken once", r, ann)
			offered := 0
			for _, id := range []string{waiting.ID, third.ID} {
				it, err := tx.Interaction(ctx, id)
				require.NoError(t, err)
				switch it.State {
				case interaction.StateOffered:
					offered++
					assert.Equal(t, ann, it.OfferedTo, "round %d", r)
				case interaction.StateQueued:
				default:
					t.Errorf("round %d: %s is %s", r, id, it.State)
				}
			}
			assert.Equal(t, 1, offered, "round %d: one offered, the other waiting", r)
			return nil
		}))
		assertRoomExact(t, in[0].store, ann)
		// The round's connections go back now, not at the end of the
		// test: twelve rounds of two pools would take most of the
		// server's connections from the tests running beside this one.
		for _, p := range pools {
			p.Close()
		}
		if t.Failed() {
			return
		}
	}
}

// blockedOrDone waits until a backend other than the test's waits on a
// lock, or done is closed: the second transaction of
// TestHeldAgentAcrossProcesses has reached the agent's row lock, or went
// through without it.
func blockedOrDone(t *testing.T, s *postgres.Store, done <-chan struct{}) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		select {
		case <-done:
			return
		default:
		}
		var n int
		require.NoError(t, s.Pool().QueryRow(context.Background(), `SELECT count(*) FROM pg_stat_activity
			WHERE datname = current_database() AND wait_event_type = 'Lock' AND query LIKE '%'||$1||'%'`, s.Schema()).Scan(&n))
		if n > 0 {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the other transaction neither waits on a lock nor ends")
}

// TestHeldAgentAcrossProcesses: a transaction that read an agent (so holds
// its row lock and counted its load after it) reads it again, takes its
// load and writes it back without counting again; another process
// changing the agent's load meanwhile waits for the lock, so the load
// kept is never stale: has_room ends exact and capacity holds. A load read
// before the lock is counted again once the lock is taken. An agent read
// by AgentOnly is not locked: the other process goes through, and the
// Agent after it counts what it left.
func TestHeldAgentAcrossProcesses(t *testing.T) {
	tests := []struct {
		name string
		// before runs in the first transaction before it reads the agent.
		before func(ctx context.Context, tx emailflow.Tx) error
		// other runs in a second process's transaction: while the first
		// holds the lock (concurrent) or between before and the read.
		other      func(ctx context.Context, tx emailflow.Tx) error
		concurrent bool
		free       bool  // ann starts with no interaction
		offer      bool  // the first transaction offers ann one, if she has room, before writing ann back
		wantRead   int   // load the first transaction reads once locked
		otherErr   error // the second's outcome
		wantLoad   int   // load at the end
		// When the first reads ann by AgentOnly, which takes no lock, the
		// second goes through at once, and the first's Agent after it
		// locks and counts what the second left: the load it reads, and
		// the load at the end (the second is never refused).
		onlyRead, onlyLoad int
	}{
		{
			name: "load down elsewhere waits for the lock",
			other: func(ctx context.Context, tx emailflow.Tx) error {
				it, err := tx.Interaction(ctx, "held")
				if err != nil {
					return err
				}
				it.State, it.OfferedTo = interaction.StateQueued, ""
				return tx.UpdateInteraction(ctx, it)
			},
			concurrent: true, wantRead: 1, wantLoad: 0,
			onlyRead: 0, onlyLoad: 0,
		},
		{
			name: "load up elsewhere on a stale read is refused after the lock",
			other: func(ctx context.Context, tx emailflow.Tx) error {
				if _, err := tx.Load(ctx, "ann"); err != nil {
					return err
				}
				return tx.CreateInteraction(ctx, offeredTo("theirs", "ann"))
			},
			concurrent: true, free: true, offer: true, wantRead: 0, otherErr: emailflow.ErrConflict, wantLoad: 1,
			// The second's offer went through; the first, counting it
			// under the lock, finds ann full and offers nothing.
			onlyRead: 1, onlyLoad: 1,
		},
		{
			name: "load read before the lock is counted again",
			before: func(ctx context.Context, tx emailflow.Tx) error {
				n, err := tx.Load(ctx, "ann")
				if err == nil && n != 1 {
					err = fmt.Errorf("load read %d, want 1", n)
				}
				return err
			},
			other: func(ctx context.Context, tx emailflow.Tx) error {
				it, err := tx.Interaction(ctx, "held")
				if err != nil {
					return err
				}
				it.State, it.OfferedTo = interaction.StateQueued, ""
				return tx.UpdateInteraction(ctx, it)
			},
			wantRead: 0, wantLoad: 0,
			onlyRead: 0, onlyLoad: 0,
		},
	}
	for _, tc := range tests {
		// Each case twice: the first read by Agent (the lock and the
		// count), then by AgentOnly (neither; the Agent after it locks).
		for _, only := range []bool{false, true} {
			name := tc.name
			if only {
				name += ", AgentOnly"
			}
			wantRead, wantLoad := tc.wantRead, tc.wantLoad
			if only {
				wantRead, wantLoad = tc.onlyRead, tc.onlyLoad
			}
			t.Run(name, func(t *testing.T) {
				ctx := t.Context()
				schema := freshSchema(t)
				var stores [2]*postgres.Store
				for i := range stores {
					pool, err := connect(ctx, 2)
					require.NoError(t, err)
					t.Cleanup(pool.Close)
					stores[i], err = postgres.New(ctx, pool, &postgres.Options{Schema: schema})
					require.NoError(t, err)
				}
				a, b := stores[0], stores[1]
				require.NoError(t, a.Update(ctx, func(tx emailflow.Tx) error {
					if err := tx.PutAgent(ctx, &emailflow.Agent{ID: "ann", Status: emailflow.StatusReady, Queues: []string{"q"}, Capacity: 1}); err != nil {
						return err
					}
					if tc.free {
						return nil
					}
					return tx.CreateInteraction(ctx, offeredTo("held", "ann"))
				}))
				assertRoomExact(t, a, "ann")

				var otherErr error
				done := make(chan struct{})
				runOther := func() {
					defer close(done)
					otherErr = b.Update(ctx, func(tx emailflow.Tx) error { return tc.other(ctx, tx) })
				}
				idle := time.Date(2026, 3, 2, 11, 0, 0, 0, time.UTC)
				require.NoError(t, a.Update(ctx, func(tx emailflow.Tx) error {
					if tc.before != nil {
						if err := tc.before(ctx, tx); err != nil {
							return err
						}
					}
					if !tc.concurrent {
						runOther()
					}
					read := tx.Agent
					if only {
						read = tx.(emailflow.AgentOnlyTx).AgentOnly
					}
					agent, err := read(ctx, "ann")
					if err != nil {
						return err
					}
					if tc.concurrent {
						go runOther()
						if only {
							// AgentOnly holds nothing: the second ends
							// while the first is still open.
							select {
							case <-done:
							case <-time.After(20 * time.Second):
								t.Fatal("the second waited for the first's AgentOnly")
							}
						} else {
							blockedOrDone(t, a, done)
						}
					}
					again, err := tx.Agent(ctx, "ann")
					if err != nil {
						return err
					}
					assert.Equal(t, agent, again)
					n, err := tx.Load(ctx, "ann")
					if err != nil {
						return err
					}
					assert.Equal(t, wantRead, n, "load once locked")
					if tc.offer && n < 1 { // ann's capacity, as routing decides
						if err := tx.CreateInteraction(ctx, offeredTo("mine", "ann")); err != nil {
							return err
						}
					}
					agent.IdleSince = idle
					return tx.PutAgent(ctx, agent)
				}))
				<-done
				if tc.otherErr != nil && !only {
					assert.ErrorIs(t, otherErr, tc.otherErr)
				} else {
					assert.NoError(t, otherErr)
				}
				require.NoError(t, a.View(ctx, func(tx emailflow.Tx) error {
					n, err := tx.Load(ctx, "ann")
					require.NoError(t, err)
					assert.Equal(t, wantLoad, n, "load at the end")
					return nil
				}))
				rows := roomRows(t, a, "ann")
				require.Len(t, rows, 1)
				assert.Equal(t, idle, rows[0].idle)
				assertRoomExact(t, a, "ann")
			})
		}
	}
}
